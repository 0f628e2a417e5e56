// ClickHouse in process (npm package chdb) behind stdin/stdout, for the Java tests (testkit/ClickHouse.java).
// Each stdin line is a JSON object {"sql": "...", "format": "JSONEachRow"}; each answer one JSON line,
// {"ok": true, "out": "..."} or {"ok": false, "error": "..."}. The session's data lives in argv[2].
const { Session } = require("chdb");
const readline = require("readline");

const session = new Session(process.argv[2]);
const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    const out = session.query(request.sql, request.format || "JSONEachRow");
    answer = { ok: true, out: out === undefined || out === null ? "" : String(out) };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
lines.on("close", () => process.exit(0));
process.stdout.write(JSON.stringify({ ok: true, out: "ready" }) + "\n");
