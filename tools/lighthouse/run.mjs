// One Lighthouse run with the shopper's cookies in the browser's own jar (the CLI's
// --extra-headers reaches page navigations only, not the page's fetch() calls).
//   node run.mjs URL mobile|desktop REPORT.json [COOKIES_JSON]
import fs from "node:fs";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import puppeteer from "puppeteer-core";

const [url, preset, report, cookies] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  if (cookies) await browser.setCookie(...JSON.parse(cookies));
  const flags = {
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility", "best-practices"],
    disableStorageReset: Boolean(cookies), // a reset would clear the cookies too; the browser is new
  };
  const result = await lighthouse(url, flags, preset === "desktop" ? desktopConfig : undefined, page);
  fs.writeFileSync(report, result.report);
} finally {
  await browser.close();
}
