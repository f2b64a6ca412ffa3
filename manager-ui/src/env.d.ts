// Svelte components as TypeScript sees them (Vite compiles them; `npx tsc -p manager-ui` checks the .ts around them).
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
