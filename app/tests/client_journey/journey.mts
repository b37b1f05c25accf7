// The SPA's journey through the API, typed from the committed spec (docs/openapi.json →
// generated/api.d.ts by openapi-typescript) and run with openapi-fetch against a live server.
// `app/tests/test_client_journey.py` generates the types, type-checks this file
// (`tsc --noEmit`), compiles it and runs it with Node: any type error, unexpected status or
// broken promise of the spec fails the build.
//
//   node dist/journey.mjs http://127.0.0.1:8000

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type TokenPair = components["schemas"]["TokenPair"];
type ErrorResponse = components["schemas"]["ErrorResponse"];
type OpportunitySummary = components["schemas"]["OpportunityRead"];

const baseUrl = process.argv[2];
if (!baseUrl) throw new Error("usage: node journey.mjs <base url>");

const api = createClient<paths>({ baseUrl });
let accessToken: string | undefined;
const bearer: Middleware = {
  onRequest({ request }) {
    if (accessToken && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${accessToken}`);
    }
    return request;
  },
};
api.use(bearer);

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`journey: ${what}`);
}

function expectStatus(response: Response, status: number, what: string, error?: unknown): void {
  check(
    response.status === status,
    `${what}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? "")}`,
  );
}

function expectError(error: ErrorResponse | undefined, code: string, what: string): void {
  check(error?.error.code === code, `${what}: expected ${code}, got ${JSON.stringify(error)}`);
  check(typeof error.request_id === "string", `${what}: no request_id`);
}

function step(name: string): void {
  console.log(`✓ ${name}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const email = `journey-${Date.now()}@example.org`;
const password = "a-long-journey-secret-7";

// 1. Register ------------------------------------------------------------------------------
{
  const { data, error, response } = await api.POST("/api/v1/auth/register", {
    body: { email, password, full_name: "Journey Tester" },
  });
  expectStatus(response, 201, "register", error);
  check(data?.email === email, "register: the account's e-mail");
  check(data.is_verified === false, "register: not verified yet");
  check(response.headers.get("Location") === "/api/v1/users/me", "register: Location");
  step("register (201, Location)");
}

// 2. Verify through the development outbox -------------------------------------------------
{
  let link: string | undefined;
  for (let attempt = 0; attempt < 50 && !link; attempt++) {
    const { data, error, response } = await api.GET("/api/v1/dev/outbox", {
      params: { query: { to: email, limit: 1 } },
    });
    expectStatus(response, 200, "dev outbox", error);
    link = data?.items[0]?.links.find((l) => l.includes("verify-email"));
    if (!link) await sleep(100);
  }
  check(link, "the verification e-mail reached the outbox");
  const token = new URL(link).searchParams.get("token");
  check(token, "the link carries a token");
  const { error, response } = await api.POST("/api/v1/auth/verify-email", { body: { token } });
  expectStatus(response, 204, "verify-email", error);
  step("verify via GET /dev/outbox (204)");
}

// 3. Log in -----------------------------------------------------------------------------------
let tokens: TokenPair;
{
  const { data, error, response } = await api.POST("/api/v1/auth/login/json", {
    body: { email, password },
  });
  expectStatus(response, 200, "login", error);
  check(data, "login: a token pair");
  check(response.headers.get("Cache-Control") === "no-store", "login: Cache-Control no-store");
  check(Number(response.headers.get("RateLimit-Remaining")) >= 0, "login: RateLimit fields");
  tokens = data;
  accessToken = tokens.access_token;
  const me = await api.GET("/api/v1/users/me");
  expectStatus(me.response, 200, "users/me", me.error);
  check(me.data?.is_verified === true, "users/me: verified");
  const bad = await api.GET("/api/v1/users/me", {
    headers: { Authorization: "Bearer not-a-token" },
  });
  expectStatus(bad.response, 401, "a bad token", bad.error);
  expectError(bad.error, "INVALID_TOKEN", "a bad token");
  step("login (no-store, RateLimit fields) and /users/me");
}

// 4. Profile: create, then edit with If-Match -----------------------------------------------
{
  const created = await api.PUT("/api/v1/profiles/me", {
    body: { display_name: "Journey", business_name: "Journey Foods", country: "KE" },
  });
  expectStatus(created.response, 201, "profile create", created.error);
  const etag = created.response.headers.get("ETag");
  check(etag, "profile create: ETag");
  check(created.response.headers.get("Location"), "profile create: Location");
  const edited = await api.PATCH("/api/v1/profiles/me", {
    params: { header: { "if-match": etag } },
    body: { bio: "We dry mangoes." },
  });
  expectStatus(edited.response, 200, "profile edit", edited.error);
  check(edited.data?.bio === "We dry mangoes.", "profile edit: applied");
  const newer = edited.response.headers.get("ETag");
  check(newer && newer !== etag, "profile edit: a new ETag");
  const stale = await api.PATCH("/api/v1/profiles/me", {
    params: { header: { "if-match": etag } },
    body: { bio: "Lost update" },
  });
  expectStatus(stale.response, 412, "stale If-Match", stale.error);
  expectError(stale.error, "VERSION_MISMATCH", "stale If-Match");
  step("profile PUT (201, ETag) → PATCH with If-Match (200) → stale If-Match (412)");
}

// 5. Filtered search with facets, paged ----------------------------------------------------
let opportunity: OpportunitySummary;
{
  const query = {
    type: ["grant", "loan", "equity", "accelerator", "competition"],
    open_now: true,
    facets: ["type" as const, "country" as const],
    sort: "deadline" as const,
    limit: 3,
    include_total: true,
  };
  const first = await api.GET("/api/v1/opportunities", { params: { query } });
  expectStatus(first.response, 200, "search", first.error);
  check(first.data, "search: a page");
  check(first.data.items.length === 3, "search: a full first page");
  check((first.data.total ?? 0) > 3, "search: more than one page");
  check(first.data.facets?.type?.length, "search: type facet counts");
  check(first.data.next_cursor, "search: a next cursor");
  const second = await api.GET("/api/v1/opportunities", {
    params: { query: { ...query, cursor: first.data.next_cursor } },
  });
  expectStatus(second.response, 200, "search page 2", second.error);
  const firstIds = new Set(first.data.items.map((i) => i.id));
  check(second.data?.items.every((i) => !firstIds.has(i.id)), "search: pages do not overlap");
  const pick = first.data.items[0];
  check(pick && "title" in pick, "search: a full item (not a tombstone)");
  opportunity = pick as OpportunitySummary;
  const bad = await api.GET("/api/v1/opportunities", {
    params: { query: { ...query, cursor: "not-a-cursor" } },
  });
  expectStatus(bad.response, 422, "a bad cursor", bad.error);
  expectError(bad.error, "INVALID_CURSOR", "a bad cursor");
  step(`search with facets, 2 pages of ${first.data.total} (422 INVALID_CURSOR on a bad one)`);
}

// 6. Save and apply -----------------------------------------------------------------------------
{
  const path = { opportunity_id: opportunity.id };
  const saved = await api.PUT("/api/v1/opportunities/{opportunity_id}/save", {
    params: { path },
  });
  expectStatus(saved.response, 200, "save", saved.error);
  check(saved.data?.saved === true, "save: saved");
  const applied = await api.PUT("/api/v1/opportunities/{opportunity_id}/application", {
    params: { path },
    body: { status: "applied" },
  });
  expectStatus(applied.response, 200, "apply", applied.error);
  const mine = await api.GET("/api/v1/me/opportunities", { params: { query: { limit: 10 } } });
  expectStatus(mine.response, 200, "my opportunities", mine.error);
  const listed = mine.data?.items.map((row) => row.opportunity.id) ?? [];
  check(listed.includes(opportunity.id), "my opportunities: listed");
  step("save + application");
}

// 7. RSVP and the .ics ---------------------------------------------------------------------------
{
  const events = await api.GET("/api/v1/events", {
    params: { query: { open_now: true, limit: 5 } },
  });
  expectStatus(events.response, 200, "events", events.error);
  const event = events.data?.items.find((e) => "title" in e);
  check(event, "events: an open event");
  const rsvp = await api.PUT("/api/v1/events/{event_id}/rsvp", {
    params: { path: { event_id: event.id } },
    body: { status: "going" },
  });
  expectStatus(rsvp.response, 200, "rsvp", rsvp.error);
  check(rsvp.data?.status === "going" || rsvp.data?.status === "waitlisted", "rsvp: status");
  const ics = await api.GET("/api/v1/events/{event_id}.ics", {
    params: { path: { event_id: event.id } },
    parseAs: "text",
  });
  expectStatus(ics.response, 200, ".ics", ics.error);
  const calendar: string | undefined = ics.data;
  check(calendar, ".ics: a body");
  check(calendar.startsWith("BEGIN:VCALENDAR"), ".ics: a calendar");
  check(
    ics.response.headers.get("Content-Type")?.startsWith("text/calendar"),
    ".ics: text/calendar",
  );
  check(calendar.includes(`URL:${baseUrl}/api/v1/events/`), ".ics: an absolute URL");
  step("RSVP going + .ics (text/calendar, absolute URL)");
}

// 8. Two tabs refresh at once with one refresh token ---------------------------------------------
let tabs: [TokenPair, TokenPair];
{
  const body = { refresh_token: tokens.refresh_token };
  const [a, b] = await Promise.all([
    api.POST("/api/v1/auth/refresh", { body }),
    api.POST("/api/v1/auth/refresh", { body }),
  ]);
  expectStatus(a.response, 200, "tab A refresh", a.error);
  expectStatus(b.response, 200, "tab B refresh", b.error);
  check(a.data && b.data, "both tabs got a pair");
  check(a.response.headers.get("Cache-Control") === "no-store", "refresh: no-store");
  tabs = [a.data, b.data];
  for (const [i, tab] of tabs.entries()) {
    const me = await api.GET("/api/v1/users/me", {
      headers: { Authorization: `Bearer ${tab.access_token}` },
    });
    expectStatus(me.response, 200, `tab ${i} still logged in`, me.error);
  }
  step("two tabs refresh at once: both stay logged in");
}

// 9. Log out ---------------------------------------------------------------------------------------
{
  const [tabA, tabB] = tabs;
  const out = await api.POST("/api/v1/auth/logout", {
    headers: { Authorization: `Bearer ${tabA.access_token}` },
    body: { refresh_token: tabA.refresh_token },
  });
  expectStatus(out.response, 204, "logout", out.error);
  for (const tab of [tabA, tabB]) {
    const me = await api.GET("/api/v1/users/me", {
      headers: { Authorization: `Bearer ${tab.access_token}` },
    });
    expectStatus(me.response, 401, "after logout", me.error);
    expectError(me.error, "INVALID_TOKEN", "after logout");
    check(me.response.headers.get("WWW-Authenticate") === 'Bearer error="invalid_token"', "401: WWW-Authenticate");
  }
  const again = await api.POST("/api/v1/auth/refresh", {
    body: { refresh_token: tabB.refresh_token },
  });
  expectStatus(again.response, 401, "refresh after logout", again.error);
  step("logout ends the session in every tab");
}

console.log("journey complete");
