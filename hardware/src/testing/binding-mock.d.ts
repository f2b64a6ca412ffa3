// @serialport/binding-mock ships types its package.json "exports" do not point at; these are
// the parts the tests use (see its dist/index.d.ts).
declare module '@serialport/binding-mock' {
  export interface MockPortBinding {
    isOpen: boolean;
    recording: Buffer;
    lastWrite: Buffer | null;
    write(buffer: Buffer): Promise<void>;
    emitData(data: Buffer | string): void;
  }
  export interface CreatePortOptions {
    echo?: boolean;
    record?: boolean;
    readyData?: Buffer;
    maxReadSize?: number;
  }
  export const MockBinding: {
    open(options: { path: string; baudRate: number } & Record<string, unknown>): Promise<MockPortBinding>;
    list(): Promise<unknown[]>;
    createPort(path: string, options?: CreatePortOptions): void;
    reset(): void;
  };
}
