// The npm package's main entry (`import 'hms-webcall'`): registers <hms-webcall> with the defaults (the
// Flask extension under /hms/) as soon as it is imported. To choose the prefix or attribute defaults, import
// define() from 'hms-webcall/define' instead and call it yourself.

import { define } from './define.js';

export { define };
export const HMSWebCallElement = define();
