// Users: admins add, edit, disable and delete accounts; everyone edits their own.
import type { User } from "../api/models";
import type { FieldSpec } from "../components/form";
import { ResourceList } from "../components/resource";
import { Page, Status } from "../components/ui";
import { dateTime } from "../lib/format";
import { useTitle } from "../lib/hooks";
import { useMe } from "../lib/me";

const ROLES = [
  { value: "user", label: "User: their own projects, keys and sessions" },
  { value: "admin", label: "Admin: everything, providers and settings included" },
];

export default function Users() {
  useTitle("Users");
  const me = useMe();
  const admin = me.role === "admin";
  const fields: FieldSpec[] = [
    { name: "username", label: "Username", required: true, createOnly: true },
    {
      name: "password",
      label: "Password",
      kind: "password",
      required: true,
      help: "At least 8 characters. When editing, leave empty to keep it.",
    },
    { name: "email", label: "Email", kind: "email" },
    ...(admin
      ? [
          { name: "role", label: "Role", kind: "select" as const, options: ROLES, default: "user" },
          { name: "enabled", label: "Can sign in", kind: "bool" as const, default: true },
        ]
      : []),
  ];
  return (
    <Page title="Users" subtitle={admin ? "People who sign in to this gateway." : "Your account."}>
      <ResourceList<User>
        title={admin ? "All users" : "You"}
        config={{
          singular: "user",
          plural: "users",
          noun: "user",
          fields,
          canAdd: admin,
          canDelete: admin,
          nameOf: (u) => u.username,
          deleteNote: "Their projects, keys and sessions are deleted with them.",
          empty: { title: "No users", text: "Add the people who use this gateway." },
          columns: [
            {
              key: "username",
              label: "Username",
              render: (u) => (
                <strong>
                  {u.username}
                  {u.id === me.id && <span className="muted"> (you)</span>}
                </strong>
              ),
            },
            { key: "email", label: "Email", render: (u) => u.email ?? "—" },
            { key: "role", label: "Role", render: (u) => u.role },
            { key: "enabled", label: "State", render: (u) => <Status value={u.enabled ? "enabled" : "disabled"} /> },
            { key: "created", label: "Created", render: (u) => dateTime(u.created_at) },
          ],
        }}
      />
    </Page>
  );
}
