using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// An immutable, thread-safe compiled policy: the decision table. <see cref="Authorize(Subject, string, string)"/>
/// reads it only, never throws because of policy content, and allocates nothing once a subject is resolved.
/// Build one with <see cref="PolicyCompiler.Compile"/>.
/// </summary>
public sealed partial class CompiledPolicy
{
    // Rule action codes: an interned action id (>= 0), or one of these.
    internal const int AnyAction = -1;
    internal const int GlobAction = -2;

    // Effective-role lists up to this size are merged on the stack; larger ones rent from the pool.
    private const int StackRoles = 128;

    private readonly RoleData[] roles;
    private readonly RuleData[] rules;
    private readonly ActionSlot[] slots;
    private readonly NameTable actionIds;
    private readonly Pattern[] actionGlobs;
    private readonly bool[] actionGlobMatches; // [glob * actionCount + action], or empty when too large to build
    private readonly int actionCount;
    private readonly string[] actionNames; // by id
    private readonly CatalogEntry[] catalog;
    private readonly string[] catalogTypes;
    private readonly IndexedList[] catalogByType;
    private readonly IndexedList catalogUntyped;
    private readonly int defaultTier;
    private readonly string[] tiers;
    // Tier name -> index: a request's tier is found in constant time however many tiers the policy declares.
    private readonly NameTable tierIds;
    private readonly NameTable tagBits;
    private readonly ExclusiveSet[] exclusiveSets;
    private readonly Pattern[] notByOwner;
    private readonly bool[] notByOwnerByActionId;
    // Cold path (subject resolution): plain read-only dictionaries, cheaper to build than frozen ones.
    private readonly IReadOnlyDictionary<string, int> roleLookup;
    private readonly IReadOnlyDictionary<string, PolicySubject> policySubjects;
    private readonly TimeProvider timeProvider;

    internal CompiledPolicy(CompiledTables tables)
    {
        roles = tables.Roles;
        rules = tables.Rules;
        slots = tables.Slots;
        actionIds = new NameTable(tables.ActionIds);
        actionCount = tables.ActionIds.Count;
        actionNames = new string[actionCount];
        foreach (var (name, id) in tables.ActionIds)
        {
            actionNames[id] = name;
        }
        actionGlobs = tables.ActionGlobs;
        actionGlobMatches = tables.ActionGlobMatches;
        catalog = tables.Catalog;
        catalogTypes = tables.CatalogTypes;
        catalogByType = tables.CatalogByType;
        catalogUntyped = tables.CatalogUntyped;
        defaultTier = tables.DefaultTier;
        tiers = tables.Tiers;
        tierIds = new NameTable(tiers.Select(static (name, index) => KeyValuePair.Create(name, index)));
        tagBits = new NameTable(tables.TagBits);
        exclusiveSets = tables.ExclusiveSets;
        notByOwner = tables.NotByOwner;
        notByOwnerByActionId = tables.NotByOwnerByActionId;
        roleLookup = tables.RoleLookup;
        policySubjects = tables.PolicySubjects;
        timeProvider = tables.TimeProvider;
        Source = tables.Source;
        Roles = tables.RoleInfos;
        Tiers = tiers;
        DefaultSensitivity = tiers[defaultTier];
    }

    /// <summary>
    /// A policy with no roles: every request is denied (<c>missing_identity</c> or <c>no_active_role</c>). It answers
    /// before a real policy is loaded, so that the current policy is never <see langword="null"/>.
    /// </summary>
    public static CompiledPolicy DenyAll { get; } = CompilerRun.BuildEmpty();

    /// <summary>The source name the policy was loaded from.</summary>
    public string Source { get; }

    /// <summary>The roles, in declaration order, with what they declare and what they inherit.</summary>
    public IReadOnlyList<RoleInfo> Roles { get; }

    /// <summary>The sensitivity tiers, lowest first.</summary>
    public IReadOnlyList<string> Tiers { get; }

    /// <summary>The tier of resources no catalog entry classifies.</summary>
    public string DefaultSensitivity { get; }

    /// <summary>Finds a role by name or id.</summary>
    /// <param name="nameOrId">The role name or id.</param>
    /// <returns>The role, or <see langword="null"/>.</returns>
    public RoleInfo? FindRole(string nameOrId)
        => nameOrId is not null && roleLookup.TryGetValue(nameOrId, out int index) ? Roles[index] : null;

    /// <summary>Decides whether <paramref name="subject"/> may perform <paramref name="action"/> on a plain resource.</summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <param name="resource">The resource, <c>type:name</c>.</param>
    /// <returns>The decision.</returns>
    public Decision Authorize(Subject subject, string action, string resource)
        => Authorize(subject, action, new ResourceRequest(resource));

    /// <summary>Decides whether <paramref name="subject"/> may perform <paramref name="action"/> on a resource the caller describes.</summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <param name="resource">The resource with its scope, tier, tags and owner as the caller knows them.</param>
    /// <returns>The decision.</returns>
    public Decision Authorize(Subject subject, string action, in ResourceRequest resource)
    {
        if (subject is null)
        {
            return new Decision(this, DecisionReason.MissingIdentity);
        }

        // The subject first: its load is then under way while the action and resource are read.
        var resolved = Resolve(subject);
        var request = new Request(action, resource);
        Prepare(ref request);
        var actor = Decide(subject, resolved, ref request);
        if (!actor.Allowed)
        {
            return actor;
        }

        // On behalf of: every link down the chain must be allowed too; no link exceeds the one it acts for.
        for (var link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            var decision = Decide(link, Resolve(link), ref request);
            if (!decision.Allowed)
            {
                // A separation-of-duties link has a role but no rule (its index names the broken list, not a rule).
                int rule = decision.Reason == DecisionReason.SeparationOfDuties ? -1 : decision.RuleIndex;
                return new Decision(this, DecisionReason.DelegationDenied, decision.RoleIndex, rule, decision.TierIndex, decision.Reason);
            }
        }

        return actor;
    }

    private void Prepare(ref Request request)
    {
        if (string.IsNullOrEmpty(request.Action) || string.IsNullOrEmpty(request.Resource.Name))
        {
            request.Invalid = true;
            return;
        }

        request.ActionId = actionIds.Find(request.Action);

        string? tier = request.Resource.Sensitivity;
        if (tier is not null)
        {
            request.CallerTier = tierIds.Find(tier);
            request.Invalid |= request.CallerTier < 0;
        }

        string? scope = request.Resource.Scope;
        request.Invalid |= scope is not null && !AiRbac.Scope.IsValid(scope);

        if (!request.Resource.Tags.IsEmpty)
        {
            foreach (string tag in request.Resource.Tags.Span)
            {
                // A tag the policy never names cannot be cleared by any role: it takes the reserved bit.
                int bit = tag is null ? -1 : tagBits.Find(tag);
                request.CallerTags |= bit >= 0 ? 1UL << bit : UnknownTagBit;
            }
        }
    }

    internal const ulong UnknownTagBit = 1UL << 63;

    private Decision Decide(Subject subject, ResolvedSubject resolved, ref Request request)
    {
        if (resolved.MissingIdentity)
        {
            return new Decision(this, DecisionReason.MissingIdentity);
        }

        if (request.Invalid || resolved.Invalid)
        {
            return new Decision(this, DecisionReason.InvalidRequest);
        }

        if (resolved.View.Runs is not null)
        {
            return DecideView(subject, resolved, ref request);
        }

        if (resolved.Static)
        {
            return DecideForRoles(subject, resolved.Effective, resolved.SodSet, resolved.SodRole, ref request);
        }

        return DecideDynamic(subject, resolved, ref request);
    }

    private Decision DecideDynamic(Subject subject, ResolvedSubject resolved, ref Request request)
    {
        long now = resolved.HasExpiry ? timeProvider.GetUtcNow().UtcTicks : 0;
        int total = resolved.ClosureTotal;
        int[]? rented = null;
        Span<int> buffer = total <= StackRoles ? stackalloc int[StackRoles] : (rented = ArrayPool<int>.Shared.Rent(total));
        int count = 0;
        string? scope = request.Resource.Scope;
        foreach (ref readonly var binding in resolved.Bindings.AsSpan())
        {
            if (binding.Never || now >= binding.ExpiresUtcTicks)
            {
                continue;
            }

            if (binding.Scope is not null && (scope is null || !AiRbac.Scope.Covers(binding.Scope, scope)))
            {
                continue;
            }

            binding.Closure.AsSpan().CopyTo(buffer[count..]);
            count += binding.Closure.Length;
        }

        var effective = buffer[..count];
        effective.Sort();
        count = Dedupe(effective);
        effective = effective[..count];
        int sodSet = FindExclusiveConflict(effective, out int sodRole);
        var decision = DecideForRoles(subject, effective, sodSet, sodRole, ref request);
        if (rented is not null)
        {
            ArrayPool<int>.Shared.Return(rented);
        }

        return decision;
    }

    internal static int Dedupe(Span<int> sorted)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        int write = 1;
        for (int i = 1; i < sorted.Length; i++)
        {
            if (sorted[i] != sorted[write - 1])
            {
                sorted[write++] = sorted[i];
            }
        }

        return write;
    }

    internal int FindExclusiveConflict(ReadOnlySpan<int> effective, out int role)
    {
        role = -1;
        for (int s = 0; s < exclusiveSets.Length; s++)
        {
            int held = 0;
            int first = -1;
            foreach (int member in exclusiveSets[s].Roles)
            {
                if (effective.BinarySearch(member) >= 0)
                {
                    held++;
                    if (first < 0)
                    {
                        first = member;
                    }
                }
            }

            if (held >= 2)
            {
                role = first;
                return s;
            }
        }

        return -1;
    }

    private Decision DecideForRoles(Subject subject, ReadOnlySpan<int> effective, int sodSet, int sodRole, ref Request request)
    {
        if (sodSet >= 0)
        {
            return new Decision(this, DecisionReason.SeparationOfDuties, sodRole, sodSet);
        }

        if (effective.IsEmpty)
        {
            return new Decision(this, DecisionReason.NoActiveRole);
        }

        // Deny beats allow: the first deny of any effective role, roles in file order, rules in file order.
        foreach (int r in effective)
        {
            ref readonly var role = ref roles[r];
            int slot = SlotOf(in role, request.ActionId);
            int k = FirstMatch(slot >= 0 ? slots[slot].Deny : default, role.AnyDeny, ref request);
            if (k >= 0)
            {
                return new Decision(this, DecisionReason.ExplicitDeny, r, k);
            }
        }

        if (IsOwnerConflict(subject, ref request))
        {
            return new Decision(this, DecisionReason.OwnerConflict);
        }

        var grants = new GrantJudgement();
        foreach (int r in effective)
        {
            ref readonly var role = ref roles[r];
            int slot = SlotOf(in role, request.ActionId);
            int k = FirstMatch(slot >= 0 ? slots[slot].Allow : default, role.AnyAllow, ref request);
            if (k < 0)
            {
                continue;
            }

            if (!grants.AnyMatch)
            {
                Classify(ref request, rules[k].CatalogEntry, rules[k].CatalogCandidates);
            }

            if (grants.Allows(r, k, role.Ceiling, role.Clearances, ref request))
            {
                return new Decision(this, DecisionReason.Allowed, r, k, request.Tier);
            }
        }

        return grants.Denied(this, ref request);
    }

    // Step 7: the two-person rule.
    private bool IsOwnerConflict(Subject subject, ref Request request)
        => request.Resource.Owner is not null && notByOwner.Length > 0
            && string.Equals(request.Resource.Owner, subject.Id, StringComparison.Ordinal) && IsNotByOwnerAction(ref request);

    /// <summary>
    /// Step 8 over the matching roles, in file order, each judged by its first matching grant with its own ceiling and
    /// clearances: the first that fits both allows; otherwise the reason and deciding role and rule of §4.
    /// </summary>
    private struct GrantJudgement()
    {
        private int firstRole = -1, firstRule = -1, fitRole = -1, fitRule = -1;

        /// <summary>Whether some role has matched yet (the resource is classified at the first match).</summary>
        public readonly bool AnyMatch => firstRole >= 0;

        /// <summary>Judges a matching role; true when it allows the request.</summary>
        public bool Allows(int role, int rule, int ceiling, ulong clearances, ref Request request)
        {
            if (firstRole < 0)
            {
                firstRole = role;
                firstRule = rule;
            }

            if (ceiling < request.Tier)
            {
                return false;
            }

            if (fitRole < 0)
            {
                fitRole = role;
                fitRule = rule;
            }

            return (request.Tags & ~clearances) == 0;
        }

        /// <summary>The denial when no matching role allowed.</summary>
        public readonly Decision Denied(CompiledPolicy policy, ref Request request)
        {
            if (firstRole < 0)
            {
                return new Decision(policy, DecisionReason.NoMatchingGrant);
            }

            return fitRole < 0
                ? new Decision(policy, DecisionReason.SensitivityCeiling, firstRole, firstRule, request.Tier)
                : new Decision(policy, DecisionReason.MissingTagClearance, fitRole, fitRule, request.Tier);
        }
    }

    /// <summary>
    /// The first rule (lowest index) of one role's grants or denies that matches the request, or -1. Only the rules
    /// naming the request's action exactly, and the rules with a wildcard action, are looked at.
    /// </summary>
    private int FirstMatch(in RuleBucket exact, in RuleBucket any, ref Request request)
    {
        int best = -1;
        int bestOrder = int.MaxValue;
        if (exact.Exact is { } names)
        {
            best = names.Find(request.Resource.Name);
            bestOrder = best >= 0 ? rules[best].Order : int.MaxValue;
        }

        for (int k = exact.Start, end = exact.Start + exact.ScanCount; k < end; k++)
        {
            ref readonly var rule = ref rules[k];
            if (rule.Order >= bestOrder)
            {
                break;
            }

            if (ResourceMatches(in rule, ref request))
            {
                best = k;
                bestOrder = rule.Order;
                break;
            }
        }

        for (int k = any.Start, end = any.Start + any.ScanCount; k < end; k++)
        {
            ref readonly var rule = ref rules[k];
            if (rule.Order >= bestOrder)
            {
                break;
            }

            if (ActionMatches(in rule, ref request) && ResourceMatches(in rule, ref request))
            {
                return k;
            }
        }

        return best;
    }

    // Roles name few actions: a plain scan of the role's slots.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int SlotOf(in RoleData role, int actionId)
    {
        if (actionId >= 0)
        {
            for (int i = role.SlotStart, end = role.SlotStart + role.SlotCount; i < end; i++)
            {
                if (slots[i].ActionId == actionId)
                {
                    return i;
                }
            }
        }

        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ActionMatches(in RuleData rule, ref Request request)
    {
        if (rule.ActionId == AnyAction)
        {
            return true;
        }

        // The table is empty when the compiler found it too large to build.
        return request.ActionId >= 0 && actionGlobMatches.Length != 0
            ? actionGlobMatches[(rule.ActionGlob * actionCount) + request.ActionId]
            : actionGlobs[rule.ActionGlob].IsMatch(request.Action);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ResourceMatches(in RuleData rule, ref Request request)
    {
        string name = request.Resource.Name;
        return rule.ResourceShape switch
        {
            PatternShape.Exact => string.Equals(rule.ResourcePrefix, name, StringComparison.Ordinal),
            PatternShape.All => true,
            PatternShape.PrefixNoSlash => name.StartsWith(rule.ResourcePrefix, StringComparison.Ordinal)
                && name.AsSpan(rule.ResourcePrefix.Length).IndexOf('/') < 0,
            PatternShape.PrefixAny => name.StartsWith(rule.ResourcePrefix, StringComparison.Ordinal),
            _ => rule.ResourcePattern!.MatchGeneral(name),
        };
    }

    private bool IsNotByOwnerAction(ref Request request)
    {
        // The table is empty when the compiler found it too large to build.
        if (request.ActionId >= 0 && notByOwnerByActionId.Length != 0)
        {
            return notByOwnerByActionId[request.ActionId];
        }

        foreach (var pattern in notByOwner)
        {
            if (pattern.IsMatch(request.Action))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The resource's tier and tags: its catalog entry's (known from the matched grant when it can be) and the caller's.</summary>
    private void Classify(ref Request request, int entry, int[]? candidates)
    {
        if (entry == RuleData.CatalogUnknown)
        {
            entry = candidates is null ? FindCatalogEntry(request.Resource.Name) : FirstMatchingEntry(candidates, request.Resource.Name);
        }

        int tier = entry >= 0 ? catalog[entry].Tier : defaultTier;
        ulong tags = entry >= 0 ? catalog[entry].Tags : 0;
        request.Tier = Math.Max(tier, request.CallerTier);
        request.Tags = tags | request.CallerTags;
    }

    private int FirstMatchingEntry(int[] candidates, string resource)
    {
        foreach (int i in candidates)
        {
            if (catalog[i].Pattern.IsMatch(resource))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first catalog entry matching the resource: only entries that can match its type (the text before the first ':') are tried.</summary>
    internal int FindCatalogEntry(string resource)
    {
        int colon = resource.IndexOf(':');
        var list = catalogUntyped;
        if (colon >= 0)
        {
            // Catalogs name few types: a linear scan beats hashing the type.
            var type = resource.AsSpan(0, colon);
            for (int t = 0; t < catalogTypes.Length; t++)
            {
                if (type.SequenceEqual(catalogTypes[t]))
                {
                    list = catalogByType[t];
                    break;
                }
            }
        }

        int best = int.MaxValue;
        if (list.Exact is { } names)
        {
            int hit = names.Find(resource);
            best = hit >= 0 ? hit : int.MaxValue;
        }

        foreach (int i in list.NonExact)
        {
            if (i >= best)
            {
                break;
            }

            if (catalog[i].Pattern.IsMatch(resource))
            {
                return i;
            }
        }

        return best == int.MaxValue ? -1 : best;
    }

    private ResolvedSubject Resolve(Subject subject)
    {
        var cached = subject.Resolved;
        if (cached is not null && ReferenceEquals(cached.Policy, this))
        {
            return cached;
        }

        var resolved = ResolveSlow(subject);
        subject.Resolved = resolved;
        return resolved;
    }

    internal string RoleName(int role) => roles[role].Name;

    internal string RuleText(int rule) => rules[rule].Text;

    internal SourceLocation RuleLocation(int rule) => rules[rule].Location;

    internal SourceLocation ExclusiveSetLocation(int set) => exclusiveSets[set].Location;

    internal string Explain(DecisionReason reason, int role, int rule, int tier, DecisionReason delegated)
    {
        string RoleAndRule(string verb) => string.Create(CultureInfo.InvariantCulture,
            $"role '{roles[role].Name}' {verb} '{rules[rule].Text}' ({rules[rule].Location})");
        string name = DecisionReasons.ToName(reason);
        return reason switch
        {
            DecisionReason.Allowed => $"Allowed: {RoleAndRule("grants")}.",
            DecisionReason.MissingIdentity => $"Denied ({name}): the subject has no id or no role bindings.",
            DecisionReason.InvalidRequest => $"Denied ({name}): the request names an undeclared sensitivity tier, a malformed scope, or an empty action or resource.",
            DecisionReason.SeparationOfDuties => $"Denied ({name}): the subject holds '{roles[role].Name}' together with another role of the mutually_exclusive list [{string.Join(", ", exclusiveSets[rule].Roles.Select(r => roles[r].Name))}] ({exclusiveSets[rule].Location}).",
            DecisionReason.NoActiveRole => $"Denied ({name}): none of the subject's role bindings is in effect here (expired, out of scope, undeclared, or not for this subject kind).",
            DecisionReason.ExplicitDeny => $"Denied ({name}): {RoleAndRule("denies")}; deny beats allow.",
            DecisionReason.OwnerConflict => $"Denied ({name}): the subject owns the resource, and the two-person rule (not_by_owner) forbids the owner this action.",
            DecisionReason.NoMatchingGrant => $"Denied ({name}): no effective role grants this action on this resource.",
            DecisionReason.SensitivityCeiling => $"Denied ({name}): {RoleAndRule("grants")}, but its ceiling '{tiers[roles[role].Ceiling]}' is below the resource's tier '{tiers[tier]}'.",
            DecisionReason.MissingTagClearance => $"Denied ({name}): {RoleAndRule("grants")} within its ceiling, but no matching role clears every tag of the resource.",
            DecisionReason.DelegationDenied => role >= 0 && rule >= 0
                ? $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}): {RoleAndRule(delegated == DecisionReason.ExplicitDeny ? "denies" : "grants")}."
                : $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}).",
            _ => $"Denied ({name}).",
        };
    }

    /// <summary>Everything the decision steps need to know about one request, computed once and shared down the on-behalf-of chain.</summary>
    private struct Request(string action, in ResourceRequest resource)
    {
        public readonly string Action = action;
        public readonly ResourceRequest Resource = resource;
        public int ActionId = -1;
        public int CallerTier = 0;
        public ulong CallerTags;
        public bool Invalid;
        public int Tier;
        public ulong Tags;
    }
}
