import { mount } from 'svelte';
import App from './App.svelte';
import './display.css';

mount(App, { target: document.getElementById('app')! });
