import { loadAddon } from './src/index.js';
const r = await loadAddon(); const n = r.addon!;
const N = 4 << 20; const a = new Float32Array(N).fill(1), o = new Float32Array(N);
const sh = [16, 64, 64, 64];
let t = performance.now(); for (let i = 0; i < 20; i++) n.binary(2, a, sh, a, sh, o, sh); console.log('prealloc', ((performance.now() - t) / 20).toFixed(2));
t = performance.now(); for (let i = 0; i < 20; i++) { const o2 = new Float32Array(N); n.binary(2, a, sh, a, sh, o2, sh); } console.log('fresh', ((performance.now() - t) / 20).toFixed(2));
t = performance.now(); for (let i = 0; i < 20; i++) { const o2 = new Float32Array(N); } console.log('alloc only', ((performance.now() - t) / 20).toFixed(2));
