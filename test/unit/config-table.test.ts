/**
 * One configuration table, generated: README's table is what scripts/config-table.ts makes
 * from the config schema and server/config-docs.ts (run it with `--write` after adding a
 * variable), and it names every variable server/config.ts reads, once.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { configTable, TABLE_END, TABLE_START, withTable } from "../../scripts/config-table.ts";
import { EnvSchema, REPO_ROOT } from "../../server/config.ts";
import { CONFIG_DOCS } from "../../server/config-docs.ts";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

describe("configuration table", () => {
  it("in README.md is the generated one (node --import tsx scripts/config-table.ts --write)", () => {
    assert.equal(readme, withTable(readme, configTable()));
  });

  it("lists every variable of the schema once, each with a meaning", () => {
    const vars = Object.keys(EnvSchema.shape);
    assert.deepEqual(Object.keys(CONFIG_DOCS).sort(), [...vars].sort());
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    for (const v of vars) {
      const rows = table.split("\n").filter((l) => l.startsWith(`| \`${v}\` |`));
      assert.equal(rows.length, 1, v);
      assert.ok(CONFIG_DOCS[v as keyof typeof CONFIG_DOCS].meaning.length > 5, v);
    }
    assert.equal(readme.split(TABLE_START).length - 1, 1, "one configuration table");
    assert.equal(readme.split("| variable | default | meaning |").length - 1, 1);
  });
});
