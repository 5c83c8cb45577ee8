// Who is asking, and may they: the sandbox's authentication (bearer tokens of configured users,
// impersonation headers) and authorization (RBAC: Roles, ClusterRoles and their bindings, read
// from the store on every request as the API server's authorizer reads its cache). Members of
// system:masters may do anything, as on a real cluster.
import { StatusError } from './errors.ts';
import { qualifiedName, typeNamed, type ResourceType } from './resources.ts';
import type { KObject, Store } from './store.ts';

/** A user: a bearer token, or (over TLS) a client certificate the sandbox issues (CN the name, O the groups). */
export interface SandboxUser {
  name: string;
  token?: string;
  groups?: string[];
  certificate?: boolean;
}
/** What the TLS layer says about the client's certificate. */
export interface Peer {
  authorized: boolean;
  cn?: string;
  orgs: string[];
}
export interface Identity {
  user: string;
  groups: string[];
}

/** What a request asks to do, as an access review writes it. */
export interface Attributes {
  verb: string;
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

/** The user of the default kubeconfig: a cluster admin. */
export const ADMIN: SandboxUser = { name: 'sandbox-user', token: 'sandbox-token', groups: ['system:masters'] };

const T = {
  roles: typeNamed('roles'),
  clusterroles: typeNamed('clusterroles'),
  rolebindings: typeNamed('rolebindings'),
  clusterrolebindings: typeNamed('clusterrolebindings'),
};

/**
 * What a cluster's bootstrap ClusterRoles give every authenticated user (system:basic-user,
 * system:discovery, system:public-info-viewer), and so what the sandbox lets anyone do.
 */
const BOOTSTRAP_RULES = [
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
  {
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/livez',
      '/openapi',
      '/openapi/*',
      '/readyz',
      '/version',
      '/version/',
    ],
  },
];

export function unauthorized() {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export class Auth {
  private byToken: Map<string, SandboxUser>;

  /** `anonymous`: what a request without credentials is (the admin, for curl and quick scripts, or nobody). */
  constructor(
    private store: Store,
    users: SandboxUser[],
    private anonymous: 'admin' | 'deny' = 'admin',
  ) {
    this.byToken = new Map([ADMIN, ...users].filter((u) => u.token).map((u) => [u.token!, u]));
  }

  /** The caller of a request (bearer token, else a verified client certificate), after impersonation; throws 401 or 403. */
  identify(headers: Record<string, string | string[] | undefined>, peer?: Peer): Identity {
    const auth = String(headers.authorization ?? '');
    let id: Identity;
    if (!auth && peer?.authorized && peer.cn) {
      id = { user: peer.cn, groups: [...peer.orgs, 'system:authenticated'] };
    } else if (!auth) {
      if (this.anonymous === 'deny') throw unauthorized();
      id = { user: ADMIN.name, groups: [...ADMIN.groups!, 'system:authenticated'] };
    } else {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const u = m ? this.byToken.get(m[1]) : undefined;
      if (!u) throw unauthorized();
      id = { user: u.name, groups: [...(u.groups ?? []), 'system:authenticated'] };
    }
    const asUser = headers['impersonate-user'];
    const asGroups = [headers['impersonate-group'] ?? []].flat().filter(Boolean) as string[];
    if (!asUser && asGroups.length)
      throw new StatusError(500, 'InternalError', 'requested [impersonate-group] without impersonating a user');
    if (!asUser) return id;
    const user = String(asUser);
    // Impersonating is itself a permission: "impersonate" on users (and on each group) in the core group.
    if (!this.allowed(id, { verb: 'impersonate', group: '', resource: 'users', name: user }))
      throw this.forbiddenImpersonation(id, 'users', user);
    for (const g of asGroups)
      if (!this.allowed(id, { verb: 'impersonate', group: '', resource: 'groups', name: g }))
        throw this.forbiddenImpersonation(id, 'groups', g);
    return { user, groups: [...asGroups, 'system:authenticated'] };
  }

  /** RBAC: does any binding that names this identity grant a rule that matches? */
  allowed(id: Identity, a: Attributes): boolean {
    if (id.groups.includes('system:masters')) return true;
    const names = this.subjectMatcher(id);
    const grants = (role: KObject | undefined) => (role?.rules ?? []).some((rule: any) => ruleMatches(rule, a));
    for (const b of this.store.list(T.clusterrolebindings)) {
      if ((b.subjects ?? []).some(names) && grants(this.store.get(T.clusterroles, undefined, b.roleRef?.name)))
        return true;
    }
    if (a.namespace && !a.path) {
      for (const b of this.store.list(T.rolebindings, a.namespace)) {
        if (!(b.subjects ?? []).some(names)) continue;
        const role =
          b.roleRef?.kind === 'ClusterRole'
            ? this.store.get(T.clusterroles, undefined, b.roleRef.name)
            : this.store.get(T.roles, a.namespace, b.roleRef?.name);
        if (grants(role)) return true;
      }
    }
    return false;
  }

  /**
   * What a SelfSubjectRulesReview answers (`kubectl auth can-i --list`): every rule of the roles
   * bound to this identity that applies in `namespace` (ClusterRoleBindings, and that namespace's
   * RoleBindings), plus what the bootstrap roles give every authenticated user. The sandbox's
   * deny list (`forbidden`) is not RBAC and is not shown, as no rules review shows a webhook's denials.
   */
  rulesFor(id: Identity, namespace: string) {
    const resourceRules: any[] = [];
    const nonResourceRules: any[] = [];
    const add = (rules: any[] | undefined, clusterWide: boolean) => {
      for (const r of rules ?? []) {
        if (r.nonResourceURLs?.length) {
          if (clusterWide) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
          continue;
        }
        resourceRules.push({
          verbs: r.verbs,
          apiGroups: r.apiGroups ?? [],
          resources: r.resources ?? [],
          ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
        });
      }
    };
    if (id.groups.includes('system:masters')) {
      resourceRules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
      nonResourceRules.push({ verbs: ['*'], nonResourceURLs: ['*'] });
    }
    add(BOOTSTRAP_RULES, true);
    const names = this.subjectMatcher(id);
    for (const b of this.store.list(T.clusterrolebindings))
      if ((b.subjects ?? []).some(names)) add(this.store.get(T.clusterroles, undefined, b.roleRef?.name)?.rules, true);
    for (const b of this.store.list(T.rolebindings, namespace)) {
      if (!(b.subjects ?? []).some(names)) continue;
      const role =
        b.roleRef?.kind === 'ClusterRole'
          ? this.store.get(T.clusterroles, undefined, b.roleRef.name)
          : this.store.get(T.roles, namespace, b.roleRef?.name);
      add(role?.rules, false);
    }
    return { resourceRules, nonResourceRules, incomplete: false };
  }

  private subjectMatcher(id: Identity) {
    return (s: any) =>
      (s.kind === 'User' && s.name === id.user) ||
      (s.kind === 'Group' && id.groups.includes(s.name)) ||
      (s.kind === 'ServiceAccount' && id.user === `system:serviceaccount:${s.namespace}:${s.name}`);
  }

  /** The API server's 403, word for word. */
  forbidden(id: Identity, t: ResourceType, a: Attributes): StatusError {
    const what = a.subresource ? `${t.plural}/${a.subresource}` : t.plural;
    const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
    return new StatusError(
      403,
      'Forbidden',
      `${qualifiedName(t)}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${id.user}" cannot ${a.verb} resource "${what}" in API group "${t.group}"${where}`,
      { name: a.name, group: t.group || undefined, kind: t.plural },
    );
  }

  private forbiddenImpersonation(id: Identity, resource: string, name: string) {
    return new StatusError(
      403,
      'Forbidden',
      `${resource} "${name}" is forbidden: User "${id.user}" cannot impersonate resource "${resource}" in API group "" at the cluster scope`,
      { name, kind: resource },
    );
  }
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

function ruleMatches(rule: any, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (a.path !== undefined)
    return (rule.nonResourceURLs ?? []).some(
      (u: string) => u === a.path || u === '*' || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))),
    );
  if (!has(rule.apiGroups, a.group ?? '')) return false;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  if (
    !(rule.resources ?? []).some(
      (r: string) =>
        r === '*' ||
        r === resource ||
        (r === `*/${a.subresource}` && !!a.subresource) ||
        (r === `${a.resource}/*` && !!a.subresource),
    )
  )
    return false;
  return !rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name));
}
