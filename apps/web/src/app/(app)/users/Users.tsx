"use client";
import { useEffect, useId, useRef, useState } from "react";
import { ROLE_LABEL, ROLES, type Role } from "@/auth/roles";
import { useAsk } from "@/components/AskDialog";
import { Empty, ErrorBox, formatDateTime, Loading } from "@/components/ui";
import { gql } from "@/lib/gql";
import { NEW_PASSWORD_MIN_LENGTH, newPasswordProblem } from "@/lib/newPassword";
import { CHANGE_USER_ROLE, CREATE_USER, RESET_PASSWORD, SET_USER_DISABLED, UNLOCK_USER, USERS } from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import { useLoader } from "@/lib/useQuery";
import { askPasswordReset } from "./askPasswordReset";
import { type FilterableUser, isFiltered, matchesUser, NO_FILTER, type UserFilter, type UserState } from "./userFilter";

interface UserRow extends FilterableUser {
  id: string;
  createdAt: string;
}

interface NewUser {
  login: string;
  displayName: string;
  role: string;
  password: string;
}

interface UsersPage {
  users: { nodes: UserRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Every account, page after page: an admin must find any of them, not only the first 200. */
async function allUsers(): Promise<UsersPage> {
  const nodes: UserRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page: UsersPage = await gql<UsersPage>(USERS, { after });
    nodes.push(...page.users.nodes);
    if (!page.users.pageInfo.hasNextPage) return { users: { nodes, pageInfo: page.users.pageInfo } };
    after = page.users.pageInfo.endCursor;
  }
}

export function Users({ selfId }: { selfId: string }) {
  const { data, error, loading, reload } = useLoader(allUsers);

  const { act, actionError, notice, busy } = useAction(reload);
  // Every change to an account is audited with a reason (the dialog's default question).
  const { ask, dialog } = useAsk();
  const [filter, setFilter] = useState<UserFilter>(NO_FILTER);

  if (loading && !data) return <Loading what="users" />;
  const everyone = data?.users.nodes ?? [];
  const users = everyone.filter((u) => matchesUser(u, filter));
  return (
    <div>
      <h1>Users</h1>
      {dialog}
      <ErrorBox error={error} />
      <ErrorBox error={actionError} testId="users-error" />
      {notice && (
        <p className="notice" role="status" data-testid="users-notice">
          {notice}
        </p>
      )}
      <NewUserForm
        busy={busy}
        onCreate={async (input, clear) => {
          const created = await ask(
            { title: `Create the account ${input.login} (${ROLE_LABEL[input.role as Role] ?? input.role})?`, confirm: "Create user" },
            (why) =>
              act(
                () => gql(CREATE_USER, { input: { ...input, reason: why } }),
                `User ${input.login} created. The initial password is temporary: they choose their own at first sign-in.`,
              ),
          );
          // Only once the account exists (a refused one keeps the form to correct), and the dialog is gone.
          if (created !== null) clear();
        }}
      />
      {everyone.length > 0 && <UserFilterBar filter={filter} onChange={setFilter} shown={users.length} total={everyone.length} />}
      {users.length === 0 ? (
        error ? null : everyone.length > 0 ? (
          <Empty testId="users-none-match">
            No account matches this filter.{" "}
            <button type="button" onClick={() => setFilter(NO_FILTER)}>
              Clear the filter
            </button>
          </Empty>
        ) : (
          <Empty>No users.</Empty>
        )
      ) : (
        <table data-testid="users-table">
          <thead>
            <tr>
              <th>Login</th>
              <th>Name</th>
              <th>Role</th>
              <th>State</th>
              <th>Created</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-testid="user-row" data-login={u.login}>
                <th scope="row" className="mono rowhead">
                  {u.login}
                </th>
                <td>{u.displayName}</td>
                <td>
                  <RoleCell
                    login={u.login}
                    role={u.role}
                    disabled={busy || u.id === selfId}
                    onApply={async (role) => {
                      // Sent at least once, the choice stays (beside the refusal, if the dialog was then cancelled).
                      let sent = false;
                      await ask(
                        {
                          title: `Change ${u.login} to ${ROLE_LABEL[role as Role] ?? role}?`,
                          confirm: "Change role",
                        },
                        (why) => {
                          sent = true;
                          return act(
                            () => gql(CHANGE_USER_ROLE, { id: u.id, role, reason: why }),
                            `${u.login} is now ${ROLE_LABEL[role as Role] ?? role}.`,
                          );
                        },
                      );
                      return sent;
                    }}
                  />
                </td>
                <td>
                  {u.disabled ? (
                    <span className="badge bad">disabled</span>
                  ) : (
                    <span className="badge ok">active</span>
                  )}{" "}
                  {u.lockedUntil && Date.parse(u.lockedUntil) > Date.now() && (
                    <span className="badge bad" data-testid="user-locked">
                      locked until {formatDateTime(u.lockedUntil)}
                    </span>
                  )}{" "}
                  {u.mustChangePassword && (
                    <span className="badge" title="Set by an administrator, or older than this installation allows: its owner must choose a new one at the next sign-in" data-testid="user-temporary-password">
                      new password due
                    </span>
                  )}
                </td>
                <td>{formatDateTime(u.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    disabled={busy || u.id === selfId}
                    data-testid="toggle-disabled"
                    aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.login}`}
                    onClick={() => {
                      const verb = u.disabled ? "Enable" : "Disable";
                      void ask(
                        {
                          title: `${verb} ${u.login}?`,
                          // The API revokes their tokens in the same change: said before, not discovered after.
                          ...(u.disabled ? {} : { message: `${u.login}'s open sessions end immediately, on every device: unsaved work there is lost.` }),
                          confirm: verb,
                        },
                        (why) =>
                          act(
                            () => gql(SET_USER_DISABLED, { id: u.id, disabled: !u.disabled, reason: why }),
                            `${u.login} ${u.disabled ? "enabled" : "disabled"}.`,
                          ),
                      );
                    }}
                  >
                    {u.disabled ? "Enable" : "Disable"}
                  </button>{" "}
                  {u.lockedUntil && Date.parse(u.lockedUntil) > Date.now() && u.id !== selfId && (
                    <>
                      <button
                        type="button"
                        disabled={busy}
                        data-testid="unlock-user"
                        aria-label={`Unlock ${u.login}`}
                        onClick={() =>
                          void ask({ title: `Unlock ${u.login}? The password stays as it is.`, confirm: "Unlock" }, (why) =>
                            act(() => gql(UNLOCK_USER, { id: u.id, reason: why }), `${u.login} unlocked.`),
                          )
                        }
                      >
                        Unlock
                      </button>{" "}
                    </>
                  )}
                  <button
                    type="button"
                    disabled={busy || u.id === selfId}
                    data-testid="reset-password"
                    aria-label={`Reset password of ${u.login}`}
                    onClick={() =>
                      void askPasswordReset(ask, u.login, (password, reason) =>
                        act(() => gql(RESET_PASSWORD, { id: u.id, newPassword: password, reason }), `Password of ${u.login} reset.`),
                      )
                    }
                  >
                    Reset password
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const STATES: { value: UserState; label: string }[] = [
  { value: "all", label: "All" },
  { value: "active", label: "Active" },
  { value: "disabled", label: "Disabled" },
  { value: "attention", label: "Locked or new password due" },
];

/** Search, role and state over the loaded accounts, with how many of them it shows. */
function UserFilterBar({ filter, onChange, shown, total }: { filter: UserFilter; onChange: (f: UserFilter) => void; shown: number; total: number }) {
  return (
    <search className="panel row" aria-label="Find accounts">
      <label>
        Find
        <input
          type="search"
          value={filter.text}
          onChange={(e) => onChange({ ...filter, text: e.target.value })}
          placeholder="login, name or role…"
          data-testid="users-filter-text"
        />
      </label>
      <label>
        Role
        <select value={filter.role} onChange={(e) => onChange({ ...filter, role: e.target.value as UserFilter["role"] })} data-testid="users-filter-role">
          <option value="">All</option>
          <RoleOptions />
        </select>
      </label>
      <label>
        State
        <select value={filter.state} onChange={(e) => onChange({ ...filter, state: e.target.value as UserState })} data-testid="users-filter-state">
          {STATES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      {/* Said politely as it changes, so that a screen-reader user hears what the filter left. */}
      <span role="status" data-testid="users-filter-count">
        {isFiltered(filter) ? `${shown} of ${total} accounts` : `${total} accounts`}
      </span>
    </search>
  );
}

/**
 * A role is chosen, then applied: a select that asked on every change opened the question at each
 * arrow key (a closed select changes value with the arrows), so a keyboard user could never get
 * past the next role (WCAG 3.2.2).
 */
function RoleCell({ login, role, disabled, onApply }: { login: string; role: string; disabled: boolean; onApply: (role: string) => Promise<boolean> }) {
  const [chosen, setChosen] = useState(role);
  useEffect(() => setChosen(role), [role]);
  // Applied or cancelled, the Apply button goes (the row shows its stored role again), and focus
  // with it, to the page (WCAG 2.4.3): it comes to the select once that is enabled again.
  const select = useRef<HTMLSelectElement>(null);
  const focusSelect = useRef(false);
  useEffect(() => {
    if (!focusSelect.current || disabled || chosen !== role) return;
    focusSelect.current = false;
    select.current?.focus();
  }, [chosen, role, disabled]);
  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <select
        ref={select}
        aria-label={`Role of ${login}`}
        value={chosen}
        disabled={disabled}
        data-testid="user-role-select"
        onChange={(e) => setChosen(e.target.value)}
      >
        <RoleOptions />
      </select>
      {chosen !== role && (
        <button
          type="button"
          disabled={disabled}
          data-testid="apply-role"
          aria-label={`Apply role to ${login}`}
          onClick={async () => {
            focusSelect.current = true;
            // Cancelled: back to the stored role. Applied, the reloaded row brings the new one; refused,
            // the choice stays beside the error, to try again or change.
            if (!(await onApply(chosen))) setChosen(role);
          }}
        >
          Apply role
        </button>
      )}
    </span>
  );
}

/**
 * No role is chosen for the administrator: a default would be Administrator (the first role), one
 * unnoticed Enter away. The new password is typed twice (newPasswordProblem); the reason is asked
 * by `onCreate`, which calls `clear` once the account exists.
 */
function NewUserForm({ busy, onCreate }: { busy: boolean; onCreate: (input: NewUser, clear: () => void) => void }) {
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const problem = newPasswordProblem(password, again);
  const hintId = useId();
  // The emptied form's Create button is disabled, where focus could not come back: the next account
  // starts at its login. In an effect, after the question's dialog has closed (the dialog comes
  // first in the page): while a modal dialog is open, the page behind it cannot take focus.
  const login = useRef<HTMLInputElement>(null);
  const [focusLogin, setFocusLogin] = useState(false);
  useEffect(() => {
    if (!focusLogin) return;
    setFocusLogin(false);
    login.current?.focus();
  }, [focusLogin]);
  return (
    <form
      className="panel row"
      aria-label="Create user"
      onSubmit={(e) => {
        e.preventDefault();
        if (problem) return;
        const form = e.currentTarget;
        const f = new FormData(form);
        const input = {
          login: String(f.get("login") ?? "").trim(),
          displayName: String(f.get("displayName") ?? "").trim(),
          role: String(f.get("role")),
          password,
        };
        onCreate(input, () => {
          form.reset();
          setPassword("");
          setAgain("");
          setFocusLogin(true);
        });
      }}
    >
      <label>
        Login
        <input ref={login} name="login" required autoComplete="off" data-testid="new-user-login" />
      </label>
      <label>
        Printed name
        <input name="displayName" required data-testid="new-user-name" />
      </label>
      <label>
        Role
        <select name="role" required defaultValue="" data-testid="new-user-role">
          <option value="" disabled>
            Choose a role…
          </option>
          <RoleOptions />
        </select>
      </label>
      <label>
        Initial password (≥ {NEW_PASSWORD_MIN_LENGTH} characters)
        <input
          type="password"
          minLength={NEW_PASSWORD_MIN_LENGTH}
          required
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={hintId}
          data-testid="new-user-password"
        />
      </label>
      <label>
        Type it again
        <input
          type="password"
          required
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.target.value)}
          aria-describedby={hintId}
          data-testid="new-user-password-again"
        />
      </label>
      <button className="primary" type="submit" disabled={busy || problem !== null} aria-describedby={hintId} data-testid="create-user">
        Create user
      </button>
      {/* Always there, so that a screen reader announces each change; empty until a password is typed. */}
      <span className="muted" role="status" id={hintId} data-testid="new-user-password-hint">
        {password || again ? problem : null}
      </span>
    </form>
  );
}

/** One option per role, named as users read them. */
function RoleOptions() {
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {ROLE_LABEL[r]}
    </option>
  ));
}
