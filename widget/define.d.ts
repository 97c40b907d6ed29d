// Types of 'hms-webcall/define': define(), the element's class (not registered until define() or
// HMSWebCallElement.define(tag, registry) is called) and every type.
export { define, HMSWebCallElement } from './index.js';
export type * from './index.js';
