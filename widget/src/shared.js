// What widget.js hands over to its call chunk: the parts of the modules both files use that the loader
// contains anyway, so the script-tag build ships them once (build.mjs's "from-loader" plugin makes the
// chunk take these names from window.__hmsWebcallShared). Only what the loader needs itself belongs here:
// anything else would make every page pay for what only a call needs.
// One `import { ... } from './module.js';` line per module: build.mjs reads them to know which names of
// which module the chunk takes from the loader (and checks them against SHARED).

import { micConstraints, remembered } from './attributes.js';
import { SHELL, translator } from './i18n.js';
import { CHANNEL, popoutBusy } from './popout.js';
import { adoptStyles } from './styles.js';
import { canCall } from './support.js';

// A plain object rather than the module's namespace: esbuild would add its getter helper to the loader.
export const SHARED = { micConstraints, remembered, SHELL, translator, CHANNEL, popoutBusy, adoptStyles, canCall };
