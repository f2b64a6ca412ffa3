/// <reference path="./binding-mock.d.ts" />
// The serialport project's own mock binding, for tests of serial peripherals (LED boards):
// imported from here so every workspace sees its types.
export { MockBinding, type MockPortBinding } from '@serialport/binding-mock';
