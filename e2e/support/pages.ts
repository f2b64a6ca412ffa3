import type { Page } from 'playwright-core';
import { STAFF_PASSWORD } from './stack.ts';

/** Signs in on the sign-in form every staff screen shows (counter terminal, console). */
export async function signIn(page: Page, username: string, password = STAFF_PASSWORD): Promise<void> {
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
}
