import type { Metadata } from "next";
import type { ReactNode } from "react";

export const metadata: Metadata = {
  title: "text2pixi",
  description: "Type a sentence, watch a Pixi.js v8 animation made by a local model.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ margin: 0, background: "#16181d", color: "#e8e8ee", fontFamily: "system-ui, sans-serif" }}>
        {children}
      </body>
    </html>
  );
}
