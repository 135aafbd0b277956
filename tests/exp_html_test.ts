import assert from "node:assert/strict";
import { join } from "node:path";
import { decode, encode } from "fast-png";
import { SIX_STAGES, TestProject } from "./fixtures/engine/project.ts";
import { experimentsPage } from "../pipeline/cli/exp_html.ts";
import { curvesSpec } from "../pipeline/cli/exp_curves.ts";
import type { ShowTable } from "../pipeline/cli/exp_show.ts";
import { renderFigure } from "../stages/figure/render.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Whether headless Chromium is here; without it the test is skipped, except under CI=true. */
async function haveChromium(): Promise<boolean> {
  const found = await Deno.stat(CHROMIUM).then(() => true, () => false);
  if (!found && Deno.env.get("CI") === "true") {
    throw new Error(`${CHROMIUM} is missing; .ci/run installs it (apt-get install chromium)`);
  }
  if (!found) console.log(`skipped: ${CHROMIUM} is not installed`);
  return found;
}

/** Runs headless Chromium on `url` with a fresh profile and no network services. */
async function chromium(args: string[], url: string): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
  try {
    const out = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        ...args,
        url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}

/** The first cell of every body row of the rendered table. */
function firstColumn(dom: string): string[] {
  const body = dom.slice(dom.indexOf("<tbody>"), dom.indexOf("</tbody>"));
  return [...body.matchAll(/<tr><td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
}

Deno.test("exp show --html: Chromium renders the experiments table, sorted by a column on request", async () => {
  if (!(await haveChromium())) return;
  const p = await TestProject.create({ "six.yaml": SIX_STAGES });
  try {
    const sweep = await p.cli(
      "exp",
      "run",
      "s",
      "configs/six.yaml",
      "--sweep",
      "stages.mb.with.scale=2,4,3",
    );
    assert.equal(sweep.code, 0, sweep.stderr);
    const page = p.path("page.html");
    const r = await p.cli("exp", "show", "--html", "-o", page);
    assert.equal(r.code, 0, r.stderr);
    const html = await Deno.readTextFile(page);
    assert.doesNotMatch(html, /(src|href)="https?:/, "nothing is fetched from the network");

    const dom = await chromium(["--dump-dom"], `file://${page}`);
    assert.match(dom, /<th data-col="1">mb\.scale<\/th>/);
    assert.deepEqual(firstColumn(dom), ["configs/six.yaml", "s-scale=2", "s-scale=3", "s-scale=4"]);
    const sorted = await chromium(["--dump-dom"], `file://${page}#sort=final.sum:desc`);
    assert.deepEqual(firstColumn(sorted), [
      "s-scale=4",
      "s-scale=3",
      "s-scale=2",
      "configs/six.yaml",
    ]);
    assert.match(sorted, /<th data-col="\d+" class="desc">final\.sum<\/th>/);
  } finally {
    await p.dispose();
  }
});

Deno.test("exp show --html: the overlaid curves and figure thumbnails are inline, and the page screenshots at its window size", async () => {
  if (!(await haveChromium())) return;
  const dir = await Deno.makeTempDir({ prefix: "exp_html_" });
  try {
    const series = ["components=5 · train_llgae", "components=11 · train_llgae"];
    const points = series.flatMap((s, i) =>
      [0, 1, 2].map((epoch) => ({ series: s, epoch, test_mse: 900 - 40 * i - 10 * epoch }))
    );
    const finals = series.map((s, i) => ({ series: s, test_mse: 880 - 40 * i }));
    const curves = await renderFigure(
      curvesSpec({ points, finals, series, missing: [] }, "test MSE per epoch"),
    );
    const thumb = encode({ width: 4, height: 4, data: new Uint8Array(64).fill(200), channels: 4 });
    const table: ShowTable = { params: [], metrics: [], rows: [] };
    const page = join(dir, "page.html");
    await Deno.writeTextFile(
      page,
      experimentsPage(table, {
        curves: curves.svg,
        thumbs: [{
          name: "k5",
          uri: `data:image/png;base64,${btoa(String.fromCharCode(...thumb))}`,
        }],
        precision: 4,
      }),
    );
    const dom = await chromium(["--dump-dom"], `file://${page}`);
    assert.match(dom, /<svg[^>]*>[\s\S]*components=11 · train_llgae/);
    assert.match(dom, /<img alt="figure of k5" src="data:image\/png;base64,/);

    const shot = join(dir, "shot.png");
    await chromium([`--screenshot=${shot}`, "--window-size=1280,900"], `file://${page}`);
    const png = decode(await Deno.readFile(shot));
    assert.deepEqual([png.width, png.height], [1280, 900]);
    const values = new Set(png.data.filter((_, i) => i % 4 === 0));
    assert.ok(values.size > 10, "the screenshot shows the page, not a blank window");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
