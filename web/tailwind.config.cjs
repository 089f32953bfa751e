/** Medusa's UI preset: the design tokens @medusajs/ui is written against. */
module.exports = {
  presets: [require("@medusajs/ui-preset")],
  content: ["./index.html", "./src/**/*.{ts,tsx}", "./node_modules/@medusajs/ui/dist/**/*.{js,mjs}"],
  darkMode: "class",
}
