/**
 * CORS under `kiln dev`: a front-end dev server (Vite on :5173, Next on :3000, …) runs on another
 * port of the same machine, which is another origin, so dev allows local origins on any port unless
 * KILN_CORS_ORIGINS says otherwise. `kiln serve` keeps the closed default.
 */
import type { Settings } from '../config/settings.js';

export const DEV_CORS_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'] as const;

/** The settings dev serves with, and whether CORS is dev's default (the banner says so). */
export function devCorsSettings(settings: Settings): { settings: Settings; corsDefault: boolean } {
  if (settings.corsOrigins.length > 0) return { settings, corsDefault: false };
  return { settings: { ...settings, corsOrigins: [...DEV_CORS_ORIGINS] }, corsDefault: true };
}
