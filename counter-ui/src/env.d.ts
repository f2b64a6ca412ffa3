// Svelte components as TypeScript sees them (Vite compiles them; `npx tsc -p counter-ui` checks the .ts around them).
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
