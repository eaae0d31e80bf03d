/**
 * Which Cloud Tasks v2 RPC a REST request is, for the Cloud Tasks test double: its path and method
 * as the Google clients send them in fallback (REST) mode, and the queue and task it names.
 */
const ROUTE =
  /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/queues(?:\/([A-Za-z0-9-]+)(\/tasks(?:\/([^/:]+))?)?)?(?::([a-zA-Z]+))?$/;

export interface Route {
  rpc: string;
  location: string;
  queue?: string;
  task?: string;
}

export function route(method: string, path: string): Route | undefined {
  const m = ROUTE.exec(path);
  if (m === null) return undefined;
  const [, location = "", queueId, tasks, taskId, verb] = m;
  const queue = queueId === undefined ? undefined : `${location}/queues/${queueId}`;
  const task = taskId === undefined ? undefined : `${queue}/tasks/${taskId}`;
  const at = { location, ...(queue ? { queue } : {}), ...(task ? { task } : {}) };
  const key = `${method} ${queue === undefined ? "queues" : tasks === undefined ? "queue" : task === undefined ? "tasks" : "task"}${verb ? `:${verb}` : ""}`;
  const rpc = RPCS[key];
  return rpc === undefined ? undefined : { rpc, ...at };
}

const RPCS: Record<string, string> = {
  "GET queues": "ListQueues",
  "POST queues": "CreateQueue",
  "GET queue": "GetQueue",
  "PATCH queue": "UpdateQueue",
  "DELETE queue": "DeleteQueue",
  "POST queue:pause": "PauseQueue",
  "POST queue:resume": "ResumeQueue",
  "POST queue:purge": "PurgeQueue",
  "GET tasks": "ListTasks",
  "POST tasks": "CreateTask",
  "GET task": "GetTask",
  "DELETE task": "DeleteTask",
  "POST task:run": "RunTask",
};
