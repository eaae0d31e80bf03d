import { local } from "faasade/local";
import { testProvider } from "faasade/testing";

testProvider({ name: "local", provider: () => local({ maxContainers: 2 }) });
