import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempFolder } from "../test/fixtures.js";
import { APPLICATION_ID, type Migration, migrate, pragmaNumber } from "./schema.js";

let folder: ReturnType<typeof tempFolder>;
let db: DatabaseSync;

beforeEach(() => {
  folder = tempFolder();
  db = new DatabaseSync(join(folder.path, "m.db"));
});
afterEach(() => {
  db.close();
  folder.cleanup();
});

const v1: Migration = { version: 1, sql: "CREATE TABLE a (x INTEGER)" };
const v2: Migration = { version: 2, sql: "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT 'none'" };
const tables = (): string[] =>
  (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>
  ).map((row) => row.name);

describe("migrate", () => {
  it("takes a new file through every step and marks it as ours", () => {
    expect(migrate({ db, file: "m.db", migrations: [v1, v2] })).toEqual({ from: 0, to: 2 });
    expect(pragmaNumber(db, "user_version")).toBe(2);
    expect(pragmaNumber(db, "application_id")).toBe(APPLICATION_ID);
    db.exec("INSERT INTO a (x) VALUES (1)");
    expect(db.prepare("SELECT y FROM a").get()).toEqual({ y: "none" });
  });

  it("runs only the steps after the file's version, keeping its rows", () => {
    migrate({ db, file: "m.db", migrations: [v1] });
    db.exec("INSERT INTO a (x) VALUES (7)");
    expect(migrate({ db, file: "m.db", migrations: [v1, v2] })).toEqual({ from: 1, to: 2 });
    expect(db.prepare("SELECT x, y FROM a").all()).toEqual([{ x: 7, y: "none" }]);
    expect(migrate({ db, file: "m.db", migrations: [v1, v2] })).toEqual({ from: 2, to: 2 });
  });

  it("rolls a failing step back whole, leaving the previous version", () => {
    migrate({ db, file: "m.db", migrations: [v1] });
    const broken: Migration = { version: 2, sql: "CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER)" };
    expect(() => migrate({ db, file: "m.db", migrations: [v1, broken] })).toThrow(/already exists/);
    expect(pragmaNumber(db, "user_version")).toBe(1);
    expect(tables()).toEqual(["a"]);
  });
});
