import { mount } from 'svelte';
import App from './App.svelte';
import './kiosk.css';

mount(App, { target: document.getElementById('app')! });
