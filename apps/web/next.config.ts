import type { NextConfig } from "next";

// Security headers that do not depend on the request. The Content-Security-Policy carries a
// per-request nonce, so it is set in src/proxy.ts.
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "no-referrer" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
];

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Served from the turbo workspace root so that Turbopack resolves hoisted packages.
  turbopack: { root: new URL("../..", import.meta.url).pathname },
  // The live differential is the API's own code (TypeScript source in the workspace).
  transpilePackages: ["@rcmnet/api"],
  experimental: {
    // forbidden(): a page for a role the user does not hold answers HTTP 403 with src/app/forbidden.tsx.
    authInterrupts: true,
  },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
