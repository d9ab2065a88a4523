// A list of rows of one resource type with create, edit and delete: the
// screen most of the workplace is made of (reports, resources, assets, ...).
import { useState, type ReactNode } from "react";
import { resources, type Page as ListPage, type Query } from "../api/client";
import { useLoad } from "../lib/hooks";
import { Modal, useConfirm, useToast } from "./dialog";
import { Form, type FieldSpec } from "./form";
import { DataTable, Pager, type Column } from "./table";
import { Empty, ErrorNote, Spinner } from "./ui";

export interface ResourceConfig<T> {
  singular: string;
  plural: string;
  /** "report": used in buttons and messages. */
  noun: string;
  fields: FieldSpec[];
  columns: Column<T>[];
  /** List filters (e.g. the project). */
  query?: Query;
  /** Added to every create body (e.g. `project_id`). */
  fixed?: Record<string, unknown>;
  empty: { title: string; text: ReactNode };
  nameOf: (r: T) => string;
  canAdd?: boolean;
  canEdit?: boolean;
  canDelete?: boolean;
  /** What to say before deleting, beyond "Delete X?". */
  deleteNote?: string;
  onCreated?: (r: T) => void;
  rowActions?: (r: T, reload: () => void) => ReactNode;
  /** Below the heading: filters and such. */
  toolbar?: ReactNode;
  pageSize?: number;
  /** The row as the edit form shows it (e.g. ids as text for selects). */
  rowTransform?: (r: Record<string, unknown>) => Record<string, unknown>;
  /** The form's body as the API takes it. */
  bodyTransform?: (b: Record<string, unknown>) => Record<string, unknown>;
}

/** The list, with its own heading (h2) and "New" button. */
export function ResourceList<T extends { id: number }>({ config, title }: { config: ResourceConfig<T>; title: string }) {
  const [offset, setOffset] = useState(0);
  const limit = config.pageSize ?? 50;
  const list = useLoad<ListPage<T>>(
    () => resources.list<T>(config.plural, { ...config.query, limit, offset }),
    [config.plural, JSON.stringify(config.query), offset],
  );
  const [editing, setEditing] = useState<T | "new" | null>(null);
  const confirm = useConfirm();
  const toast = useToast();
  const canAdd = config.canAdd ?? true;

  async function remove(r: T) {
    const ok = await confirm({
      title: `Delete ${config.noun}?`,
      message: (
        <>
          <strong>{config.nameOf(r)}</strong> will be deleted. {config.deleteNote ?? "This cannot be undone."}
        </>
      ),
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del(config.singular, r.id);
      toast(`Deleted ${config.nameOf(r)}`);
      list.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  const newButton = canAdd && (
    <button type="button" className="btn primary" onClick={() => setEditing("new")}>
      New {config.noun}
    </button>
  );
  const rows = list.data?.data ?? [];
  return (
    <section className="section" aria-label={title}>
      <div className="section-head">
        <h2>{title}</h2>
        {newButton}
      </div>
      {config.toolbar}
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && list.loading && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title={config.empty.title} action={newButton || undefined}>
          {config.empty.text}
        </Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          columns={config.columns}
          rowKey={(r) => r.id}
          caption={title}
          actions={(r) => (
            <>
              {config.rowActions?.(r, list.reload)}
              {(config.canEdit ?? true) && (
                <button type="button" className="btn small" onClick={() => setEditing(r)} aria-label={`Edit ${config.nameOf(r)}`}>
                  Edit
                </button>
              )}
              {(config.canDelete ?? true) && (
                <button type="button" className="btn small danger-text" onClick={() => remove(r)} aria-label={`Delete ${config.nameOf(r)}`}>
                  Delete
                </button>
              )}
            </>
          )}
        />
      )}
      {list.data && <Pager total={list.data.total} capped={list.data.total_capped} limit={limit} offset={offset} onOffset={setOffset} />}
      <Modal
        open={editing !== null}
        title={editing === "new" ? `New ${config.noun}` : `Edit ${config.noun}`}
        onClose={() => setEditing(null)}
        wide
      >
        {editing !== null && (
          <Form
            fields={config.fields}
            row={editing === "new" ? undefined : (config.rowTransform ?? ((r) => r))(editing as unknown as Record<string, unknown>)}
            submitLabel={editing === "new" ? `Create ${config.noun}` : "Save"}
            onCancel={() => setEditing(null)}
            onSubmit={async (raw) => {
              const body = config.bodyTransform ? config.bodyTransform(raw) : raw;
              if (editing === "new") {
                const created = await resources.add<T>(config.singular, { ...config.fixed, ...body });
                toast(`Created ${config.nameOf(created)}`);
                config.onCreated?.(created);
              } else {
                await resources.patch<T>(config.singular, editing.id, body);
                toast("Saved");
              }
              setEditing(null);
              list.reload();
            }}
          />
        )}
      </Modal>
    </section>
  );
}
