import { memoryProvider, testProvider } from "faasade/testing";

testProvider({ name: "memory", provider: () => memoryProvider(), isolated: false });
