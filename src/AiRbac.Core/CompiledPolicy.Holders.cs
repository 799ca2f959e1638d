using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AiRbac.Model;

namespace AiRbac;

/// <summary>
/// "Who holds what": the effective roles of a subject exactly as step 3 of the decision steps computes them
/// (docs/policy-language.md, section 4: bindings not expired, scope absent or covering the request's, role declared, ancestors
/// for the subject's kind, never entering a role whose <c>kinds</c> exclude it), and the separation-of-duties breaches
/// step 4 would report. Lint, the command-line tool and the access review ask these, so they cannot disagree with
/// <see cref="Authorize(Subject, string, in ResourceRequest)"/> or with each other. Cold path: allocates.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>The subjects the policy's <c>bindings</c> section names, in file order (each once), with their kind; their roles come from the policy.</summary>
    public IReadOnlyList<Subject> BoundSubjects { get; }

    /// <summary>
    /// The bindings step 3 considers for <paramref name="subject"/>: its own, or, when it carries none, the policy's for
    /// its id, as the engine holds them: groups expanded, the subject's own scope and expiry narrowing each binding (the
    /// earlier expiry, the deeper scope), and a binding whose two scopes cannot meet left out (it never applies).
    /// Expiry is kept, not judged against the clock.
    /// </summary>
    /// <param name="subject">The subject.</param>
    /// <returns>The bindings, in the order step 3 reads them; empty when there are none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public IReadOnlyList<RoleBinding> BindingsOf(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.HasRoles)
        {
            return subject.Roles!;
        }

        return Known(subject) is { } known ? [.. known.Bindings.Where(b => !b.Never).Select(b => new RoleBinding(b.Role, b.Scope, b.Expires))] : [];
    }

    /// <summary>
    /// The effective roles of <paramref name="subject"/> for a request in <paramref name="scope"/> at
    /// <paramref name="at"/>: step 3 of the decision steps (docs/policy-language.md, section 4), for the subject itself (not
    /// the subjects it acts on behalf of). Its bindings, or the policy's for its id when it carries none; its kind, or
    /// the policy's, else <c>user</c>.
    /// </summary>
    /// <param name="subject">The subject.</param>
    /// <param name="scope">The request's scope, or <see langword="null"/> for a request without one (only unscoped bindings apply).</param>
    /// <param name="at">The time, or <see langword="null"/> for now by the policy's clock.</param>
    /// <returns>
    /// The roles, in declaration order. Empty when the subject has no id or no bindings, or when a scope is malformed
    /// (<see cref="Authorize(Subject, string, in ResourceRequest)"/> then answers <c>invalid_request</c>): nothing is held.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ by the type of their first parameter (Subject or RoleInfo), so a call is never ambiguous.")]
    public IReadOnlyList<RoleInfo> EffectiveRoles(Subject subject, string? scope = null, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (!TryBindingsOf(subject, out var kind, out var bindings) || (scope is not null && !AiRbac.Scope.IsValid(scope)))
        {
            return [];
        }

        return ToInfos(RoleIdsAt(kind, bindings, scope, Ticks(at), direct: null));
    }

    /// <summary>
    /// The roles a binding to <paramref name="role"/> makes effective for a subject of <paramref name="kind"/>: the
    /// role and its ancestors, never entering (or passing through) a role whose <c>kinds</c> exclude that kind. This is
    /// what a role brings a subject; <see cref="RoleInfo.Ancestors"/> lists inheritance without kinds.
    /// </summary>
    /// <param name="role">A role of this policy.</param>
    /// <param name="kind">The subject kind, or <see langword="null"/> for what the role brings a subject of any kind (the union over kinds).</param>
    /// <returns>The roles, in declaration order; empty when the role's <c>kinds</c> exclude <paramref name="kind"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="role"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="role"/> is not a role of this policy.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ by the type of their first parameter (Subject or RoleInfo), so a call is never ambiguous.")]
    public IReadOnlyList<RoleInfo> EffectiveRoles(RoleInfo role, SubjectKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(role);
        if (!roleLookup.TryGetValue(role.Id, out int index) || !ReferenceEquals(Roles[index], role))
        {
            throw new ArgumentException($"role '{role.Name}' is not a role of this policy", nameof(role));
        }

        if (kind is { } one)
        {
            return (uint)one > (uint)SubjectKind.Agent ? [] : ToInfos(ClosureOf(index, one));
        }

        var union = new SortedSet<int>();
        foreach (var each in Enum.GetValues<SubjectKind>())
        {
            union.UnionWith(ClosureOf(index, each));
        }

        return ToInfos([.. union]);
    }

    /// <summary>
    /// Every role <paramref name="subject"/> holds at <paramref name="at"/>, in some scope: for each, whether a binding
    /// names it (or it is only inherited), and the scopes it is effective in. The union of
    /// <see cref="EffectiveRoles(Subject, string?, DateTimeOffset?)"/> over every scope.
    /// </summary>
    /// <param name="subject">The subject.</param>
    /// <param name="at">The time, or <see langword="null"/> for now by the policy's clock.</param>
    /// <returns>The roles, in declaration order; empty when the subject holds none.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public IReadOnlyList<RoleHolding> Holdings(Subject subject, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return HoldingsOf([.. ScopedRoleSets(subject, at)], through: true);
    }

    /// <summary>Both answers from one computation of the subject's scoped role sets (lint asks both of every bound subject).</summary>
    internal (IReadOnlyList<RoleHolding> Holdings, IReadOnlyList<SeparationOfDutiesBreach> Breaches) HoldingsAndBreaches(Subject subject, DateTimeOffset at)
    {
        List<(string? Scope, int[] Roles, List<(int Bound, long Until)> Applied, SubjectKind Kind)> sets = [.. ScopedRoleSets(subject, at)];
        return (HoldingsOf(sets, through: false), BreachesOf(sets));
    }

    /// <summary>
    /// The holdings over every scope's set. With <paramref name="through"/>, each gets the bound roles that bring it and
    /// their latest expiry (lint asks without: it needs neither, and asks for every bound subject).
    /// </summary>
    private List<RoleHolding> HoldingsOf(List<(string? Scope, int[] Roles, List<(int Bound, long Until)> Applied, SubjectKind Kind)> sets, bool through)
    {
        var holdings = new SortedDictionary<int, (bool Direct, bool Everywhere, List<string> Scopes, SortedSet<int>? Through, long Until)>();
        foreach (var (scope, roleIds, applied, kind) in sets)
        {
            foreach (int role in roleIds)
            {
                var held = holdings.TryGetValue(role, out var known) ? known : (false, false, [], through ? [] : null, long.MinValue);
                foreach (var (bound, until) in applied)
                {
                    if (bound == role)
                    {
                        held.Direct = true;
                    }

                    if (held.Through is not null && Array.BinarySearch(ClosureOf(bound, kind), role) >= 0)
                    {
                        held.Through.Add(bound);
                        held.Until = Math.Max(held.Until, until);
                    }
                }

                if (scope is null)
                {
                    held.Everywhere = true;
                }
                else if (!held.Scopes.Contains(scope))
                {
                    held.Scopes.Add(scope);
                }

                holdings[role] = held;
            }
        }

        return [.. holdings.Select(h => new RoleHolding(
            Roles[h.Key], h.Value.Direct, h.Value.Everywhere ? [] : h.Value.Scopes,
            h.Value.Through is { } bound ? [.. bound.Select(r => Roles[r])] : [],
            h.Value.Until is long.MaxValue or long.MinValue ? null : new DateTimeOffset(h.Value.Until, TimeSpan.Zero)))];
    }

    /// <summary>
    /// The <c>mutually_exclusive</c> lists <paramref name="subject"/> breaks at <paramref name="at"/>: those of which it
    /// holds two or more roles at once in some scope, so that <see cref="Authorize(Subject, string, in ResourceRequest)"/>
    /// answers <c>separation_of_duties</c> for its requests there (step 4 names the first list broken; this lists every one).
    /// </summary>
    /// <param name="subject">The subject.</param>
    /// <param name="at">The time, or <see langword="null"/> for now by the policy's clock.</param>
    /// <returns>One breach per list broken, in the lists' file order, each with the first scope where it is broken (unscoped requests first).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public IReadOnlyList<SeparationOfDutiesBreach> SeparationOfDutiesBreaches(Subject subject, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        return exclusiveSets.Length == 0 ? [] : BreachesOf([.. ScopedRoleSets(subject, at)]);
    }

    private List<SeparationOfDutiesBreach> BreachesOf(List<(string? Scope, int[] Roles, List<(int Bound, long Until)> Applied, SubjectKind Kind)> sets)
    {
        var found = new SortedDictionary<int, SeparationOfDutiesBreach>();
        foreach (var (scope, roleIds, _, _) in sets)
        {
            for (int s = 0; s < exclusiveSets.Length; s++)
            {
                if (found.ContainsKey(s))
                {
                    continue;
                }

                var held = exclusiveSets[s].Roles.Where(r => Array.BinarySearch(roleIds, r) >= 0).Distinct().ToArray();
                if (held.Length >= 2)
                {
                    found.Add(s, new SeparationOfDutiesBreach(
                        [.. exclusiveSets[s].Roles.Select(r => Roles[r])], [.. held.Select(r => Roles[r])], scope, exclusiveSets[s].Location));
                }
            }
        }

        return [.. found.Values];
    }

    /// <summary>The policy's subject for <paramref name="subject"/>'s id, when the subject lacks its bindings or its kind.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private PolicySubject? Known(Subject subject)
    {
        PolicySubject? known = null;
        if (subject.Id.Length > 0 && (!subject.HasRoles || subject.Kind is null))
        {
            policySubjects.TryGetValue(subject.Id, out known);
        }

        return known;
    }

    /// <summary>The kind step 3 applies: the subject's, else the policy's for its id, else <c>user</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static SubjectKind KindOf(Subject subject, PolicySubject? known) => subject.Kind ?? known?.Kind ?? SubjectKind.User;

    /// <summary>
    /// Steps 1 and 2 for the subject's part: its kind and bindings (its own, or the policy's), or false when it has no
    /// id, no bindings or a malformed binding scope, and so holds nothing.
    /// </summary>
    private bool TryBindingsOf(Subject subject, out SubjectKind kind, out PolicyBinding[] bindings)
    {
        var known = Known(subject);
        kind = KindOf(subject, known);
        bindings = subject.HasRoles
            ? [.. subject.Roles!.Select(b => new PolicyBinding(b.Role, b.Scope, b.Expires, false))]
            : known?.Bindings ?? [];
        return subject.Id.Length > 0 && bindings.Length > 0 && !HasMalformedScope(subject) && (uint)kind <= (uint)SubjectKind.Agent;
    }

    /// <summary>
    /// The effective role set (sorted, distinct) at one scope and time: the same binding test and closures as step 3.
    /// When <paramref name="direct"/> is given, the bindings that apply (their role, its kinds admitting the subject) are
    /// added to it, each with its expiry in UTC ticks (<see cref="long.MaxValue"/> for never).
    /// </summary>
    private int[] RoleIdsAt(SubjectKind kind, PolicyBinding[] bindings, string? scope, long now, List<(int Bound, long Until)>? direct)
    {
        var when = new BindingClock(null, now, scope);
        var set = new SortedSet<int>();
        foreach (var binding in bindings)
        {
            int role = binding.Role is null ? -1 : roleIds.Find(binding.Role);
            if (role >= 0 && when.Applies(binding.Scope, binding.Expires, binding.Never))
            {
                set.UnionWith(ClosureOf(role, kind));
                if (direct is not null && (roles[role].KindMask & (1 << (int)kind)) != 0)
                {
                    direct.Add((role, binding.Expires is { } expires ? expires.UtcTicks : long.MaxValue));
                }
            }
        }

        return [.. set];
    }

    /// <summary>
    /// The effective role sets of a subject over every scope a request can have: no scope, then each binding's scope
    /// (a request's scope is covered by a chain of nested binding scopes, so the deepest of them, itself a binding
    /// scope, gives the same set). With each, the roles its bindings name directly.
    /// </summary>
    private IEnumerable<(string? Scope, int[] Roles, List<(int Bound, long Until)> Applied, SubjectKind Kind)> ScopedRoleSets(Subject subject, DateTimeOffset? at)
    {
        if (!TryBindingsOf(subject, out var kind, out var bindings))
        {
            yield break;
        }

        long now = Ticks(at);

        // Only bindings that can be in effect (not never, not expired, role declared) can change a set: keep those once, so
        // the work per scope is proportional to them, not to every binding the subject carries (a subject with thousands of
        // expired bindings would otherwise cost scopes × bindings, which MaxRoleChecks does not count).
        var active = Array.FindAll(bindings, binding => !binding.Never && (binding.Expires is not { } until || now < until.UtcTicks)
            && binding.Role is not null && roleIds.Find(binding.Role) >= 0);
        var scopes = new List<string?> { null };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var binding in active)
        {
            // Each scope of such a binding makes a set of its own.
            if (binding.Scope is { } scope && seen.Add(scope))
            {
                scopes.Add(scope);
            }
        }

        foreach (string? scope in scopes)
        {
            var applied = new List<(int Bound, long Until)>();
            yield return (scope, RoleIdsAt(kind, active, scope, now, applied), applied, kind);
        }
    }

    private long Ticks(DateTimeOffset? at) => (at ?? timeProvider.GetUtcNow()).UtcTicks;

    private RoleInfo[] ToInfos(int[] roleIds) => [.. roleIds.Select(r => Roles[r])];
}

/// <summary>A role a subject holds: whether a binding names it or it is only inherited, and where it is in effect.</summary>
public sealed class RoleHolding
{
    internal RoleHolding(RoleInfo role, bool direct, IReadOnlyList<string> scopes, IReadOnlyList<RoleInfo> through, DateTimeOffset? expires)
    {
        Role = role;
        Direct = direct;
        Scopes = scopes;
        Through = through;
        Expires = expires;
    }

    /// <summary>
    /// The roles the subject's bindings in effect name that bring this role (the role itself when <see cref="Direct"/>,
    /// or roles that inherit it), in declaration order. Reports show an inherited holding as <c>alice (through analyst)</c>.
    /// </summary>
    public IReadOnlyList<RoleInfo> Through { get; }

    /// <summary>When the subject stops holding the role: the latest expiry of the bindings that bring it, or <see langword="null"/> when one of them never expires.</summary>
    public DateTimeOffset? Expires { get; }

    /// <summary>The role.</summary>
    public RoleInfo Role { get; }

    /// <summary>Whether a binding in effect names the role (otherwise the subject has it only through inheritance).</summary>
    public bool Direct { get; }

    /// <summary>The request scopes the role is effective in; empty when it is effective for every request (through an unscoped binding).</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>The role name, with its scopes when it is not held everywhere.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Scopes.Count == 0 ? Role.Name : $"{Role.Name} (in {string.Join(", ", Scopes)})";
}

/// <summary>A <c>mutually_exclusive</c> list a subject breaks: it holds two or more of its roles at once.</summary>
public sealed class SeparationOfDutiesBreach
{
    internal SeparationOfDutiesBreach(IReadOnlyList<RoleInfo> roles, IReadOnlyList<RoleInfo> held, string? scope, SourceLocation location)
    {
        Roles = roles;
        Held = held;
        Scope = scope;
        Location = location;
    }

    /// <summary>The roles of the list, as listed.</summary>
    public IReadOnlyList<RoleInfo> Roles { get; }

    /// <summary>The roles of the list the subject holds at once (directly or through inheritance), two or more, in list order.</summary>
    public IReadOnlyList<RoleInfo> Held { get; }

    /// <summary>The request scope where it holds them, or <see langword="null"/> when it holds them for requests without a scope (and so everywhere).</summary>
    public string? Scope { get; }

    /// <summary>Where the list was written.</summary>
    public SourceLocation Location { get; }

    /// <summary>The held roles and the scope.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => string.Join(" and ", Held.Select(r => $"'{r.Name}'")) + (Scope is null ? string.Empty : $" in scope '{Scope}'");
}
