from pydantic import BaseModel


class Health(BaseModel):
    status: str
    database: str | None = None
