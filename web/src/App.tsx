import { createResource, Match, Switch } from "solid-js";
import { fetchServerInfo } from "../../sdk/server-info.ts";

/**
 * The web shell: shows that this Parley server answers and which version it runs.
 * The chat client replaces it (web client issue).
 */
export function App() {
  const [info] = createResource(() => fetchServerInfo("", (url, init) => fetch(url, init)));
  return (
    <main class="shell">
      <img class="logo" src="/favicon.svg" alt="" width="64" height="64" />
      <h1>Parley</h1>
      <p class="tagline">Self-hosted, end-to-end encrypted messaging.</p>
      <Switch>
        <Match when={info.loading}>
          <p class="status">Connecting to the server…</p>
        </Match>
        <Match when={info.error}>
          <p class="status status-error" role="alert">
            The server does not answer. Check that parley serve is running.
          </p>
        </Match>
        <Match when={info()}>
          {(server) => (
            <p class="status status-ok" data-testid="server-status">
              Server online · Parley {server().version}
              {server().compatible ? "" : " · this page is out of date, reload it"}
            </p>
          )}
        </Match>
      </Switch>
    </main>
  );
}
