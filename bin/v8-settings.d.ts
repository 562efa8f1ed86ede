/** The V8 flags Ferry runs with (see v8-settings.js). */
export const V8_SETTINGS: string[];
/** Applies each of `V8_SETTINGS` not already given to this process. */
export function applyV8Settings(): void;
