/**
 * Loaded with `node --import` before anything else: the packages named in the
 * HIDDEN_PACKAGES variable (comma-separated) cannot be imported, as if they were not
 * installed, so a test can run an application without an optional dependency.
 */
import { register } from 'node:module';

register('./hidden-packages.hooks.js', import.meta.url, { data: (process.env.HIDDEN_PACKAGES ?? '').split(',').filter(Boolean) });
