// Types of 'hms-webcall/define': define() and every type, without the registered class that only the main
// entry ('hms-webcall') exports.
export { define } from './index.js';
export type * from './index.js';
