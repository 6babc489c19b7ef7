// The embedding page (/ui/) in headless Chromium, driven by playwright-core: the key is
// typed in, a model file uploaded, the upload gate answered, the price edited, the
// listing approved; a screenshot of the listed model is written to SCREENSHOT.
// Env: SATYA_URL, SATYA_KEY, MODEL_PATH, CHROMIUM, SCREENSHOT. Prints one JSON line.
"use strict";
const assert = require("node:assert/strict");
const { chromium } = require("playwright-core");

const T = 60_000;

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const problems = [];
  let page = null;
  try {
    page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    page.on("pageerror", (err) => problems.push(String(err)));
    const requests = [];
    page.on("request", (req) => requests.push(new URL(req.url()).origin));

    await page.goto(`${process.env.SATYA_URL}/ui/`);
    assert.ok(!(await page.content()).includes(process.env.SATYA_KEY), "the page never holds a key");
    await page.fill("#key", "not-a-key");
    await page.click("#connect-btn");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("refused"), null, { timeout: T });

    await page.fill("#key", process.env.SATYA_KEY);
    await page.click("#connect-btn");
    await page.waitForSelector("#chat:not([hidden])", { timeout: T });

    const gateShown = async (word) => {
      await page.waitForFunction(
        (w) => !document.getElementById("gate").hidden
          && document.getElementById("gate-text").textContent.toLowerCase().includes(w)
          && !document.getElementById("send-btn").disabled,
        word, { timeout: T },
      );
    };
    await page.setInputFiles("#file", process.env.MODEL_PATH);
    await page.click("#upload-btn");
    await gateShown("upload");
    await page.click("#gate-yes");
    await gateShown("list");
    const bars = await page.$$eval(".progress", (rows) => rows.map((r) => r.dataset.task));
    assert.ok(bars.includes("upload") && bars.includes("verification"), bars.join());

    await page.fill("#message", "make it 2 SUI");
    await page.click("#send-btn");
    await gateShown("2 sui");
    await page.click("#gate-yes");
    await page.waitForSelector("#listed:not([hidden])", { timeout: T });
    const listed = await page.textContent("#listed");
    assert.match(listed, /Listed: .* at 2 SUI\. Listing id 0x/);
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    assert.deepEqual(problems, []);
    const origins = [...new Set(requests)];
    assert.deepEqual(origins, [new URL(process.env.SATYA_URL).origin], "same origin only");
    console.log(JSON.stringify({ listed, bars, screenshot: process.env.SCREENSHOT }));
  } catch (err) {
    if (page) {  // what the person would have seen, for the failure report
      await page.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-failed.png"), fullPage: true });
      console.error("page text:", await page.textContent("main"), "errors:", problems);
    }
    throw err;
  } finally {
    await browser.close();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
