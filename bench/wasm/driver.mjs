// wasm/: runs one of the C builds under node and prints the sum as a signed
// 64-bit integer, as Weft's `println` of an `int` does.
//   node driver.mjs MODE FILE.wasm N
// MODE "ping": FILE exports ping_run(rounds) (ping_loop.c, ping_asyncify.c).
// MODE "sum": FILE exports gen_sum(seed, n) (the plain loop, gen_loop.c, and
// the Asyncify coroutine with its consumer in C, gen_asyncify.c).
// MODE "asyncify-js": FILE is gen_asyncify.c built with -DJS_DRIVER; the
// consumer loop is here: the generator calls our yield_value, which starts
// an unwind; the loop stops it, reads the value and rewinds.
import { readFileSync } from "node:fs";

const SEED = 88172645463325252n;
const [mode, file, nArg] = process.argv.slice(2);
const n = BigInt(nArg);
const bytes = readFileSync(file);

function runSum() {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return exports.gen_sum(SEED, n);
}

function runAsyncifyJs() {
  let ex = null;
  let rewinding = false;
  let suspended = false;
  let lo = 0;
  let hi = 0;
  let dataAddr = 0;
  let dataWords = null;
  const env = {
    yield_value(vlo, vhi) {
      if (rewinding) {
        // Replayed by the rewind: the generator is back where it yielded.
        ex.asyncify_stop_rewind();
        rewinding = false;
        return;
      }
      lo = vlo >>> 0;
      hi = vhi >>> 0;
      suspended = true;
      // The buffer's {current, end}: the unwind saves the stack after them.
      dataWords[dataAddr >> 2] = dataAddr + 8;
      dataWords[(dataAddr >> 2) + 1] = dataAddr + ex.asyncify_data_size();
      ex.asyncify_start_unwind(dataAddr);
    },
  };
  ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env }).exports;
  dataAddr = ex.asyncify_data();
  dataWords = new Uint32Array(ex.memory.buffer);
  // The sum modulo 2^64 in two 32-bit halves (no BigInt per value).
  let sumLo = 0;
  let sumHi = 0;
  ex.gen_start(SEED, n);
  for (;;) {
    ex.gen_resume();
    if (!suspended) break;
    suspended = false;
    ex.asyncify_stop_unwind();
    sumLo += lo;
    sumHi = (sumHi + hi + (sumLo >= 4294967296 ? 1 : 0)) >>> 0;
    sumLo >>>= 0;
    rewinding = true;
    ex.asyncify_start_rewind(dataAddr);
  }
  return (BigInt(sumHi) << 32n) | BigInt(sumLo);
}

function runPing() {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return exports.ping_run(n);
}

const modes = { sum: runSum, "asyncify-js": runAsyncifyJs, ping: runPing };
if (!modes[mode]) throw new Error(`driver.mjs: unknown mode ${mode}; modes: ${Object.keys(modes).join(", ")}`);
console.log(BigInt.asIntN(64, modes[mode]()).toString());
