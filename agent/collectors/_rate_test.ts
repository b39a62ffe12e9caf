import assert from "node:assert/strict";
import { RateTracker } from "./_rate.ts";

Deno.test("RateTracker divides counter deltas by the measured elapsed time", async (t) => {
  const rates = new RateTracker();
  await t.step("the first observation has no rate", () => {
    assert.equal(rates.observe("a", 1000, 0), undefined);
  });
  await t.step("later ones are per second over the real interval", () => {
    assert.equal(rates.observe("a", 3000, 4000), 500);
    assert.equal(rates.observe("a", 3000, 5000), 0);
  });
  await t.step("a counter that went backwards has no rate that round, then resumes", () => {
    assert.equal(rates.observe("a", 10, 6000), undefined);
    assert.equal(rates.observe("a", 110, 7000), 100);
  });
  await t.step("no elapsed time gives no rate", () => {
    assert.equal(rates.observe("a", 200, 7000), undefined);
  });
});

Deno.test("RateTracker forgets keys missing from a round", () => {
  const rates = new RateTracker();
  rates.observe("gone", 1, 0);
  rates.observe("kept", 1, 0);
  rates.endRound();
  rates.observe("kept", 2, 1000);
  rates.endRound();
  assert.equal(rates.observe("gone", 5, 2000), undefined, "a returning key starts over");
  assert.equal(rates.observe("kept", 4, 2000), 2);
});
