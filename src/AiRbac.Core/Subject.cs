namespace AiRbac;

/// <summary>The kind of subject that asks.</summary>
public enum SubjectKind
{
    /// <summary>A human user.</summary>
    User,

    /// <summary>A service account.</summary>
    Service,

    /// <summary>An AI agent.</summary>
    Agent,
}

/// <summary>
/// The names of subject kinds as policies, request lines and audit records write them (docs/policy-language.md,
/// section 2): <c>user</c>, <c>service</c>, <c>agent</c>. The one mapping between <see cref="SubjectKind"/> and text.
/// </summary>
public static class SubjectKinds
{
    private static readonly string[] Names = ["user", "service", "agent"];

    /// <summary>Every kind's name, in enum order: <c>user</c>, <c>service</c>, <c>agent</c>.</summary>
    public static IReadOnlyList<string> AllNames { get; } = Array.AsReadOnly(Names);

    /// <summary>The lower-case name of a kind (no allocation).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns><c>user</c>, <c>service</c> or <c>agent</c>; <c>unknown</c> for a value outside the enum.</returns>
    public static string ToName(SubjectKind kind)
        => (uint)kind < (uint)Names.Length ? Names[(int)kind] : "unknown";

    /// <summary>Parses a kind's name: exactly <c>user</c>, <c>service</c> or <c>agent</c> (case-sensitive, no spaces).</summary>
    /// <param name="name">The name, or <see langword="null"/>.</param>
    /// <param name="kind">The kind, when the name is known.</param>
    /// <returns>Whether the name is known; anything else (including <see langword="null"/>) is not.</returns>
    public static bool TryParse(string? name, out SubjectKind kind)
    {
        switch (name)
        {
            case "user": kind = SubjectKind.User; return true;
            case "service": kind = SubjectKind.Service; return true;
            case "agent": kind = SubjectKind.Agent; return true;
            default: kind = default; return false;
        }
    }
}

/// <summary>A role binding carried by a request: a role (by name or id), optionally scoped and time-boxed.</summary>
/// <param name="Role">The role name or id.</param>
/// <param name="Scope">The scope the binding applies in, or <see langword="null"/> for everywhere.</param>
/// <param name="Expires">The instant the binding stops applying, or <see langword="null"/> for never.</param>
public readonly record struct RoleBinding(string Role, string? Scope = null, DateTimeOffset? Expires = null);

/// <summary>
/// Who asks: an id, a kind, role bindings, and optionally the subject it acts on behalf of. Immutable and
/// independent of any policy. Building one per request (as a service mapping claims does) costs its own construction
/// only: deciding for it allocates nothing once its effective role set has been seen by the policy. Reusing one saves
/// looking its roles up again.
/// </summary>
public sealed class Subject
{
    private readonly RoleBinding[]? roles;
    private RoleSetTable? table;
    private RoleSetTable? previousTable;

    /// <summary>Creates a subject.</summary>
    /// <param name="id">The subject id (empty means no identity).</param>
    /// <param name="kind">The kind, or <see langword="null"/> to take it from the policy's bindings (else <see cref="SubjectKind.User"/>).</param>
    /// <param name="roles">
    /// The bindings, or <see langword="null"/> to take them from the policy's <c>bindings</c> section.
    /// An empty collection means no bindings.
    /// </param>
    /// <param name="onBehalfOf">The subject this one acts for, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="SubjectKind"/> (for example <c>(SubjectKind)3</c>).</exception>
    public Subject(string id, SubjectKind? kind = null, IEnumerable<RoleBinding>? roles = null, Subject? onBehalfOf = null)
    {
        Id = id ?? string.Empty;
        Kind = CheckKind(kind);
        // A private copy behind a read-only view: the caller can change neither its own collection's effect nor the
        // subject's bindings after the first decision has cached their resolution.
        this.roles = roles?.ToArray();
        Roles = this.roles is null ? null : Array.AsReadOnly(this.roles);
        OnBehalfOf = onBehalfOf;
    }

    // Takes ownership of bindings the caller built and never exposes.
    private Subject(string id, SubjectKind? kind, RoleBinding[] owned)
    {
        Id = id ?? string.Empty;
        Kind = CheckKind(kind);
        roles = owned;
        Roles = Array.AsReadOnly(owned);
    }

    /// <summary>Creates a subject with unscoped, permanent bindings to the named roles.</summary>
    /// <param name="id">The subject id.</param>
    /// <param name="kind">The kind.</param>
    /// <param name="roles">Role names or ids.</param>
    /// <returns>The subject.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined <see cref="SubjectKind"/>.</exception>
    public static Subject WithRoles(string id, SubjectKind kind, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var bindings = new RoleBinding[roles.Length];
        for (int i = 0; i < roles.Length; i++)
        {
            bindings[i] = new RoleBinding(roles[i]);
        }

        return new Subject(id, kind, bindings);
    }

    /// <summary>The subject id.</summary>
    public string Id { get; }

    /// <summary>The kind as given, or <see langword="null"/> to take it from the policy.</summary>
    public SubjectKind? Kind { get; }

    /// <summary>The bindings as given (a read-only view of the subject's own copy), or <see langword="null"/> to take them from the policy.</summary>
    public IReadOnlyList<RoleBinding>? Roles { get; }

    /// <summary>The subject this one acts on behalf of, or <see langword="null"/>.</summary>
    public Subject? OnBehalfOf { get; }

    /// <summary>A new subject that acts on behalf of <paramref name="principal"/>.</summary>
    /// <param name="principal">The subject acted for.</param>
    /// <returns>A copy of this subject with <see cref="OnBehalfOf"/> set.</returns>
    public Subject ActingFor(Subject principal) => new(Id, Kind, roles, principal);

    /// <summary>Whether <paramref name="kind"/> is one of the defined kinds (<c>user</c>, <c>service</c>, <c>agent</c>): one compare.</summary>
    internal static bool IsDefined(SubjectKind kind) => (uint)kind <= (uint)SubjectKind.Agent;

    // An undefined kind would index another kind's (or role's) closure: refused here, and treated as invalid_request by
    // the engine for a subject forged past this check (docs/policy-language.md, choice 26).
    private static SubjectKind? CheckKind(SubjectKind? kind)
        => kind is { } k && !IsDefined(k)
            ? throw new ArgumentOutOfRangeException(nameof(kind), (int)k, "not a defined SubjectKind (user, service or agent)")
            : kind;

    /// <summary>The bindings as given, for the engine (no enumerator boxed), or an empty span with <see cref="HasRoles"/> false.</summary>
    internal ReadOnlySpan<RoleBinding> RoleSpan => roles;

    /// <summary>Whether the subject carries its own bindings (else the policy's bindings section applies).</summary>
    internal bool HasRoles => roles is not null;

    // An optimisation only: the table of the effective role set against the last policy used, when that set depends
    // on neither the request nor the time (a reference to a table the policy shares; writing it allocates nothing).
    // Setting it keeps the one it replaces, for another policy, as the previous table: a live policy and the shadow
    // policy evaluated beside it (docs/dependency-injection.md, "Shadow mode") alternate on every decision, and each
    // finds its own. A table is only ever used for the policy it names, so a torn pair of reads costs a lookup, never
    // a wrong answer. (After a reload, the previous table keeps the replaced policy reachable while the subject lives.)
    internal RoleSetTable? Table
    {
        get => Volatile.Read(ref table);
        set
        {
            var replaced = Volatile.Read(ref table);
            if (!ReferenceEquals(replaced, value))
            {
                if (replaced is not null && value is not null && !ReferenceEquals(replaced.Policy, value.Policy))
                {
                    Volatile.Write(ref previousTable, replaced);
                }

                Volatile.Write(ref table, value);
            }
        }
    }

    /// <summary>The table kept for <paramref name="policy"/> (the last or the previous one used), or <see langword="null"/>.</summary>
    internal RoleSetTable? TableFor(CompiledPolicy policy)
    {
        var last = Volatile.Read(ref table);
        if (last is not null && ReferenceEquals(last.Policy, policy))
        {
            return last;
        }

        var previous = Volatile.Read(ref previousTable);
        return previous is not null && ReferenceEquals(previous.Policy, policy) ? previous : null;
    }
}

/// <summary>The resource of a request, with what the caller knows of it: scope, sensitivity, tags and owner.</summary>
/// <param name="Name">The resource, <c>type:name</c>.</param>
public readonly record struct ResourceRequest(string Name)
{
    /// <summary>The scope the resource lives in (e.g. <c>acme/pd/prod</c>), or <see langword="null"/>.</summary>
    public string? Scope { get; init; }

    /// <summary>A tier the caller asserts (for example of RAG context), or <see langword="null"/>.</summary>
    public string? Sensitivity { get; init; }

    /// <summary>Tags the caller asserts (for example <c>phi</c>).</summary>
    public ReadOnlyMemory<string> Tags { get; init; }

    /// <summary>The subject id that owns the resource (two-person rule), or <see langword="null"/>.</summary>
    public string? Owner { get; init; }

    /// <summary>Wraps a plain resource name.</summary>
    /// <param name="name">The resource.</param>
    public static implicit operator ResourceRequest(string name) => new(name);

    /// <summary>Wraps a plain resource name.</summary>
    /// <param name="name">The resource.</param>
    /// <returns>The request resource.</returns>
    public static ResourceRequest FromString(string name) => new(name);
}
