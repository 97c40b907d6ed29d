// The node:test reporter of `npm test`: node's `dot` reporter (a dot per test, every failure in full at the
// end), then one closing line with the run's totals, e.g. "widget: 194 passed, 0 failed, 0 skipped (4.9 s)".
// The default TAP reporter printed 1,300 lines that buried the Python suite's summary in `make test`.
import { dot } from 'node:test/reporters';

export default async function* summary(source) {
  const totals = {};
  async function* watched() {
    for await (const event of source) {
      // The run's totals come last, as top-level diagnostics: "tests 194", "pass 194", "duration_ms 4872.8".
      if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
        const [name, value] = event.data.message.split(' ');
        totals[name] = Number(value);
      }
      yield event;
    }
  }
  yield* dot(watched());
  const { pass = 0, fail = 0, cancelled = 0, skipped = 0, todo = 0, duration_ms: ms = 0 } = totals;
  const notRun = cancelled ? `, ${cancelled} cancelled` : '';
  yield `widget: ${pass} passed, ${fail} failed, ${skipped + todo} skipped${notRun} (${(ms / 1000).toFixed(1)} s)\n`;
}
