export { type HttpOptions, type RunningHttpServer, startHttpServer } from "./http.js";
export { createStackwrightServer, SERVER_NAME, SERVER_VERSION, TOOLS, type ToolRegistrar } from "./server.js";
export { runStdio } from "./stdio.js";
