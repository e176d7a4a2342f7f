"use client";
import { useEffect, useState } from "react";
import { ROLE_LABEL, ROLES, type Role } from "@/auth/roles";
import { useAsk } from "@/components/AskDialog";
import { Empty, ErrorBox, formatDateTime, Loading } from "@/components/ui";
import { gql } from "@/lib/gql";
import { CHANGE_USER_ROLE, CREATE_USER, RESET_PASSWORD, SET_USER_DISABLED, UNLOCK_USER, USERS } from "@/lib/operations";
import { useAction } from "@/lib/useAction";
import { useLoader } from "@/lib/useQuery";

interface UserRow {
  id: string;
  login: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  lockedUntil: string | null;
  mustChangePassword: boolean | null;
  createdAt: string;
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

  if (loading && !data) return <Loading what="users" />;
  const users = data?.users.nodes ?? [];
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
      <form
        className="panel row"
        aria-label="Create user"
        onSubmit={(e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          const input = {
            login: String(f.get("login") ?? "").trim(),
            displayName: String(f.get("displayName") ?? "").trim(),
            role: String(f.get("role")),
            password: String(f.get("password") ?? ""),
          };
          void act(async () => {
            await gql(CREATE_USER, { input });
            form.reset();
          }, `User ${input.login} created. The initial password is temporary: they choose their own at first sign-in.`);
        }}
      >
        <label>
          Login
          <input name="login" required autoComplete="off" data-testid="new-user-login" />
        </label>
        <label>
          Printed name
          <input name="displayName" required data-testid="new-user-name" />
        </label>
        <label>
          Role
          <select name="role" data-testid="new-user-role">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Initial password (≥ 10 characters)
          <input
            name="password"
            type="password"
            minLength={10}
            required
            autoComplete="new-password"
            data-testid="new-user-password"
          />
        </label>
        <button className="primary" type="submit" disabled={busy} data-testid="create-user">
          Create user
        </button>
      </form>
      {users.length === 0 ? (
        error ? null : <Empty>No users.</Empty>
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
                      const why = await ask({
                        title: `Change ${u.login} to ${ROLE_LABEL[role as Role] ?? role}?`,
                        confirm: "Change role",
                      });
                      if (!why) return false;
                      await act(
                        () => gql(CHANGE_USER_ROLE, { id: u.id, role, reason: why }),
                        `${u.login} is now ${role}.`,
                      );
                      return true;
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
                    onClick={async () => {
                      const verb = u.disabled ? "Enable" : "Disable";
                      const why = await ask({ title: `${verb} ${u.login}?`, confirm: verb });
                      if (why)
                        void act(
                          () => gql(SET_USER_DISABLED, { id: u.id, disabled: !u.disabled, reason: why }),
                          `${u.login} ${u.disabled ? "enabled" : "disabled"}.`,
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
                        onClick={async () => {
                          const why = await ask({ title: `Unlock ${u.login}? The password stays as it is.`, confirm: "Unlock" });
                          if (why) void act(() => gql(UNLOCK_USER, { id: u.id, reason: why }), `${u.login} unlocked.`);
                        }}
                      >
                        Unlock
                      </button>{" "}
                    </>
                  )}
                  <button
                    type="button"
                    disabled={busy || u.id === selfId}
                    data-testid="reset-password"
                    onClick={async () => {
                      const pw = await ask({
                        title: `New password for ${u.login}`,
                        label: "New password (≥ 10 characters)",
                        password: true,
                        minLength: 10,
                        confirm: "Next",
                      });
                      if (!pw) return;
                      const why = await ask({
                        title: `Reset the password of ${u.login}?`,
                        confirm: "Reset password",
                      });
                      if (why)
                        void act(
                          () => gql(RESET_PASSWORD, { id: u.id, newPassword: pw, reason: why }),
                          `Password of ${u.login} reset.`,
                        );
                    }}
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

/**
 * A role is chosen, then applied: a select that asked on every change opened the question at each
 * arrow key (a closed select changes value with the arrows), so a keyboard user could never get
 * past the next role (WCAG 3.2.2).
 */
function RoleCell({ login, role, disabled, onApply }: { login: string; role: string; disabled: boolean; onApply: (role: string) => Promise<boolean> }) {
  const [chosen, setChosen] = useState(role);
  useEffect(() => setChosen(role), [role]);
  return (
    <span className="row" style={{ gap: "0.3rem" }}>
      <select aria-label={`Role of ${login}`} value={chosen} disabled={disabled} data-testid="user-role-select" onChange={(e) => setChosen(e.target.value)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {ROLE_LABEL[r]}
          </option>
        ))}
      </select>
      {chosen !== role && (
        <button
          type="button"
          disabled={disabled}
          data-testid="apply-role"
          onClick={async () => {
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
