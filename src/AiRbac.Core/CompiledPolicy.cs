using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// An immutable, thread-safe compiled policy: the decision table. <see cref="Authorize(Subject, string, string)"/>
/// reads it only, never throws because of policy content, and allocates nothing once the table of the subject's
/// effective role set is built (once per role set, shared by every subject that has it, whether reused or built per request).
/// Build one with <see cref="PolicyCompiler.Compile"/>.
/// </summary>
public sealed partial class CompiledPolicy
{
    // Rule action codes: an interned action id (>= 0), or one of these.
    internal const int AnyAction = -1;
    internal const int GlobAction = -2;

    private readonly RoleData[] roles;
    private readonly RuleData[] rules;
    private readonly ActionSlot[] slots;
    private readonly NameTable actionIds;
    private readonly Pattern[] actionGlobs;
    private readonly bool[] actionGlobMatches; // [glob * actionCount + action], or empty when too large to build
    private readonly int actionCount;
    private readonly string[] actionNames; // by id
    private readonly CatalogEntry[] catalog;
    private readonly SourceLocation[] catalogLocations;
    private readonly string[] catalogTypes;
    private readonly IndexedList[] catalogByType;
    private readonly IndexedList catalogUntyped;
    private readonly int defaultTier;
    private readonly string[] tiers;
    // Tier name -> index: a request's tier is found in constant time however many tiers the policy declares.
    private readonly NameTable tierIds;
    private readonly NameTable tagBits;
    private readonly string[] tagNames; // by bit
    private readonly ExclusiveSet[] exclusiveSets;
    private readonly Pattern[] notByOwner;
    private readonly SourceLocation[] notByOwnerLocations;
    private readonly bool[] notByOwnerByActionId;
    // Cold path (subject resolution): plain read-only dictionaries, cheaper to build than frozen ones.
    private readonly IReadOnlyDictionary<string, int> roleLookup;
    private readonly NameTable roleIds; // role name or id → role, on the request path
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
        catalogLocations = tables.CatalogLocations;
        catalogTypes = tables.CatalogTypes;
        catalogByType = tables.CatalogByType;
        catalogUntyped = tables.CatalogUntyped;
        defaultTier = tables.DefaultTier;
        tiers = tables.Tiers;
        tierIds = new NameTable(tiers.Select(static (name, index) => KeyValuePair.Create(name, index)));
        tagBits = new NameTable(tables.TagBits);
        tagNames = [.. tables.TagBits.OrderBy(static t => t.Value).Select(static t => t.Key)];
        exclusiveSets = tables.ExclusiveSets;
        notByOwner = tables.NotByOwner;
        notByOwnerLocations = tables.NotByOwnerLocations;
        notByOwnerByActionId = tables.NotByOwnerByActionId;
        roleLookup = tables.RoleLookup;
        roleIds = new NameTable(tables.RoleLookup);
        closures = new int[]?[roles.Length * 3];
        roleSetLookup = roleSets.GetAlternateLookup<ReadOnlySpan<int>>();
        policySubjects = tables.PolicySubjects;
        BoundSubjects = [.. tables.BoundSubjectIds.Select(id => new Subject(id, policySubjects[id].Kind))];
        timeProvider = tables.TimeProvider;
        contextKeys = new NameTable(tables.Gates.ContextKeys);
        contextTypes = tables.Gates.ContextTypes;
        hasGates = roles.Any(static r => r.Gated);
        approvalRules = tables.Gates.Approvals;
        approvalByActionId = tables.ApprovalByActionId;
        ApprovalRules = [.. approvalRules.Select(a => new ApprovalRuleInfo(a.Name, a.MatchText, [.. a.ApproverRoles.Select(r => tables.RoleInfos[r])], a.Count,
            TimeSpan.FromTicks(a.ValidTicks), a.Location))];
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

    // A suggestion compares the name with every role's name and id: together, at most this many characters.
    private const long MaxSuggestionCells = Tuning.Compile.MaxSpellingHintCells;

    /// <summary>
    /// The declared role name or id closest to a role reference that is not declared, when it is close enough to be a
    /// likely typo (<c>Data-Scientist</c> for <c>data-scientist</c>), for "did you mean" hints. Cold path: it compares the
    /// name with every role's name and id (at most 50,000,000 characters in all, then it gives up); call it only to
    /// explain a decision, never per request.
    /// </summary>
    /// <param name="nameOrId">The role reference, as the caller wrote it.</param>
    /// <returns>The closest declared name or id; <see langword="null"/> when <paramref name="nameOrId"/> is declared or nothing is close.</returns>
    public string? SuggestRole(string nameOrId)
    {
        if (nameOrId is null || roleLookup.ContainsKey(nameOrId))
        {
            return null;
        }

        // Names and ids in file order: of two equally close, the role declared first wins, and its name before its id.
        string? best = null;
        int bestDistance = int.MaxValue;
        long cells = 0;
        foreach (var role in Roles)
        {
            if (!Compare(role.Name) || (!string.Equals(role.Id, role.Name, StringComparison.Ordinal) && !Compare(role.Id)))
            {
                break;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, nameOrId.Length / 3) ? best : null;

        // False once the budget is spent.
        bool Compare(string candidate)
        {
            cells += (long)(nameOrId.Length + 1) * (candidate.Length + 1);
            if (cells > MaxSuggestionCells)
            {
                return false;
            }

            int distance = CompilerRun.Levenshtein(nameOrId, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }

            return true;
        }
    }

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
    /// <remarks>
    /// The decision steps of docs/policy-language.md, section 4, top to bottom: steps 1 to 8 in <see cref="Decide"/> for the
    /// subject, then step 9 for each subject it acts on behalf of. Whatever its bindings (static, scoped, expiring, from
    /// the request or from the policy), a subject ends in the same lookup of its effective role set's table and the same
    /// scan of it. Nothing here allocates once that table exists.
    /// </remarks>
    public Decision Authorize(Subject subject, string action, in ResourceRequest resource)
        => subject is null ? new Decision(this, DecisionReason.MissingIdentity) : DecideRequest(subject, action, ActionIdOf(action), in resource);

    /// <summary>
    /// Decides whether <paramref name="subject"/> may perform <paramref name="action"/> on a resource, for a request that
    /// carries a context: the typed key/value pairs role conditions read (docs/policy-language.md, section 11).
    /// </summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <param name="resource">The resource with its scope, tier, tags and owner as the caller knows them.</param>
    /// <param name="context">The request's context, or <see langword="null"/> for none (the same as the overload without it).</param>
    /// <returns>The decision.</returns>
    /// <remarks>
    /// The same steps as <see cref="Authorize(Subject, string, in ResourceRequest)"/>: step 2 also checks the context (a
    /// key the policy declares must appear once, with its declared type), and step 8 judges only the roles whose conditions
    /// hold; allocates nothing once the subject's role set has been seen.
    /// </remarks>
    public Decision Authorize(Subject subject, string action, in ResourceRequest resource, RequestContext? context)
        => subject is null ? new Decision(this, DecisionReason.MissingIdentity) : DecideRequest(subject, action, ActionIdOf(action), in resource, context);

    /// <summary>
    /// Steps 1 to 10 for one request of a subject, its action's id given: steps 1 to 8 for the subject (<see cref="Decide"/>),
    /// then step 9 for each subject it acts on behalf of and step 10's approvals (<see cref="AfterActor"/>).
    /// <see cref="Authorize(Subject, string, in ResourceRequest, RequestContext?)"/> and <see cref="AuthorizeMany"/> (for the
    /// items before the subject's table is known) both decide here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Decision DecideRequest(Subject subject, string action, int actionId, in ResourceRequest resource, RequestContext? context = null)
    {
        var request = new Request(action, in resource, context);
        Prepare(ref request, in resource, actionId);
        var actor = Decide(subject, ref request);
        return actor.Allowed && (subject.OnBehalfOf is not null || approvalRules.Length != 0) ? AfterActor(subject, ref request, actor) : actor;
    }

    /// <summary>
    /// Steps 9 and 10 for one prepared request that <paramref name="subject"/> was allowed (<paramref name="actor"/>).
    /// Step 9, delegation_denied: every link down its on-behalf-of chain must be allowed too (steps 1 to 8 again, for the
    /// same request); no link exceeds the one it acts for. An allowed chain is a break-glass decision when any link was
    /// allowed through an activation (the actor's first). Step 10, approval_required: a request the chain allows may still
    /// need approvals (docs/policy-language.md, section 13).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision AfterActor(Subject subject, ref Request request, Decision actor)
    {
        int breakGlass = actor.BreakGlassPacked;
        for (var link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            var decision = Decide(link, ref request);
            if (!decision.Allowed)
            {
                // A separation-of-duties link has a role but no rule (its index names the broken list, not a rule).
                int rule = decision.Reason == DecisionReason.SeparationOfDuties ? -1 : decision.RuleIndex;
                return new Decision(this, DecisionReason.DelegationDenied, decision.RoleIndex, rule, decision.TierIndex, decision.Reason,
                    decision.DetailIndex, decision.BreakGlassPacked);
            }

            breakGlass = breakGlass != 0 ? breakGlass : decision.BreakGlassPacked;
        }

        var allowed = breakGlass == actor.BreakGlassPacked ? actor : actor.WithBreakGlass(breakGlass);
        return approvalRules.Length == 0 ? allowed : CheckApprovals(allowed, subject, ref request);
    }

    /// <summary>Steps 1 to 8 for one subject: the actor, or a link of its on-behalf-of chain.</summary>
    /// <remarks>
    /// Not inlined: its own IL is small (the steps are in callees it inlines), so dynamic PGO would inline it into a
    /// caller's loop and then run out of the inlining budget for <see cref="RunOf"/> and <see cref="DecideRun"/>, leaving
    /// them as calls (docs/benchmarks.md, "Batch decisions").
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision Decide(Subject subject, ref Request request)
    {
        // A subject already decided against this policy whose effective roles do not depend on the request keeps its
        // table (a reference write, free): steps 1 to 3 gave this answer then, but for the request's part of step 2. It
        // keeps the tables of the last two policies, so a live policy and its shadow do not evict each other.
        var table = subject.TableFor(this);
        if (table is null)
        {
            var known = Known(subject);

            // Step 1, missing_identity: no id, or no bindings at all (a binding counts even if its role is undeclared).
            int bindings = subject.HasRoles ? subject.RoleSpan.Length : known?.Bindings.Length ?? 0;
            if (subject.Id.Length == 0 || bindings == 0)
            {
                return new Decision(this, DecisionReason.MissingIdentity);
            }

            // Step 2, invalid_request: the request's tier, scope, action and resource (Prepare), the bindings' scopes, and
            // a kind outside the enum (the constructor refuses one; a forged subject must not index another kind's closure).
            if (request.Invalid || HasMalformedScope(subject) || (subject.Kind is { } kind && !Subject.IsDefined(kind)))
            {
                return new Decision(this, DecisionReason.InvalidRequest);
            }

            // Step 3: the effective roles, and their table; with gated roles, also which of them are active.
            if (hasGates)
            {
                return DecideWithGates(subject, known, ref request);
            }

            table = EffectiveRoles(subject, known, ref request, out bool fixedSet);
            if (fixedSet)
            {
                subject.Table = table;
            }
        }
        else if (request.Invalid)
        {
            // Step 2's part of the request (the subject's part passed when the table was kept).
            return new Decision(this, DecisionReason.InvalidRequest);
        }

        return DecideOn(table, subject, ref request, default);
    }

    /// <summary>
    /// Step 3 onwards in a policy with gated roles: the effective set as always, with the roles the bindings in effect name
    /// (where the walk for active roles starts); a set without gated roles goes on exactly as in a policy without them.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision DecideWithGates(Subject subject, PolicySubject? known, ref Request request)
    {
        var seeds = new RoleSetBuilder(stackalloc int[StackRoles]);
        var table = EffectiveRoles(subject, known, ref request, out bool fixedSet, ref seeds, recordSeeds: true);
        Decision decision;
        if (table.Gated)
        {
            decision = DecideGated(table, subject, KindOf(subject, known), seeds.Appended, ref request);
        }
        else
        {
            if (fixedSet)
            {
                subject.Table = table;
            }

            decision = DecideOn(table, subject, ref request, default);
        }

        seeds.Dispose();
        return decision;
    }

    /// <summary>
    /// Step 2's part of the request, then steps 4 to 8 on the table of the subject's effective role set, <paramref name="gates"/>
    /// marking its active roles when the set holds a gated role (empty: every role is active).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Decision DecideOn(RoleSetTable table, Subject subject, ref Request request, Span<byte> gates)
    {
        if (request.Invalid)
        {
            return new Decision(this, DecisionReason.InvalidRequest);
        }

        // Steps 4 and 5, then 6 to 8 on the run of the request's action.
        var run = RunOf(table, request.ActionId);
        return run is null ? StepFourOrFive(table) : DecideRun(run, table, subject, ref request, gates);
    }

    /// <summary>
    /// The run of the action that steps 6 to 8 scan, in the table of the subject's effective role set (built when the set
    /// first meets the action); <see langword="null"/> when step 4 or 5 decides instead (<see cref="StepFourOrFive"/>).
    /// Neither depends on the resource: a batch asks once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RunTable? RunOf(RoleSetTable table, int actionId)
    {
        if (table.SodSet >= 0 || table.RoleCount == 0)
        {
            return null;
        }

        var slots = table.Slots;
        int at = FindRun(slots, actionId);
        return slots[at].Run ?? BuildRun(table, at);
    }

    /// <summary>Step 4, separation_of_duties, else step 5, no_active_role: the decision of a table <see cref="RunOf"/> gives no run.</summary>
    private Decision StepFourOrFive(RoleSetTable table)
        => table.SodSet >= 0
            ? new Decision(this, DecisionReason.SeparationOfDuties, table.SodRole, table.SodSet)
            : new Decision(this, DecisionReason.NoActiveRole);

    /// <summary>
    /// Steps 6 to 8 of a valid request for <paramref name="subject"/>, on the run of the request's action in
    /// <paramref name="table"/>, the table of the subject's effective role set (<see cref="RunOf"/>); <paramref name="gates"/>
    /// as for <see cref="DecideOn"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Decision DecideRun(RunTable run, RoleSetTable table, Subject subject, ref Request request, Span<byte> gates)
    {
        // Step 6, explicit_deny: deny beats allow; the first deny that matches, roles in file order, then rules in file order.
        var denies = new Scan(run, deny: true, request.Name);
        int k = NextMatch(run, ref denies, ref request, skipRole: -1);
        if (k >= 0)
        {
            return new Decision(this, DecisionReason.ExplicitDeny, run.Rules[k].Role, run.Infos[k].Rule);
        }

        // Step 7, owner_conflict: the two-person rule.
        if (request.Owner is not null && notByOwner.Length > 0
            && string.Equals(request.Owner, subject.Id, StringComparison.Ordinal) && IsNotByOwnerAction(ref request))
        {
            return new Decision(this, DecisionReason.OwnerConflict);
        }

        // Step 8, allowed, or no_matching_grant, sensitivity_ceiling or missing_tag_clearance: the matching roles in file
        // order, each judged alone by its first matching grant, with its own ceiling and clearances. Only active roles
        // grant (with no gated role, every role is); the first inactive one that would have allowed explains a denial.
        var grants = new GrantJudgement();
        var allows = new Scan(run, deny: false, request.Name);
        int judged = -1;
        bool classified = false;
        int inactiveRole = -1, inactiveRule = -1;
        while ((k = NextMatch(run, ref allows, ref request, skipRole: judged)) >= 0)
        {
            ref readonly var rule = ref run.Rules[k];
            ref readonly var info = ref run.Infos[k];
            judged = rule.Role;
            if (!classified)
            {
                Classify(ref request, info.CatalogEntry, info.CatalogCandidates);
                classified = true;
            }

            if (IsActive(table.Roles, gates, rule.Role))
            {
                if (grants.Allows(rule.Role, info.Rule, info.Ceiling, info.Clearances, ref request))
                {
                    return new Decision(this, DecisionReason.Allowed, rule.Role, info.Rule, request.Tier,
                        breakGlass: gates.IsEmpty ? 0 : BreakGlassOf(table.Roles, gates, subject, rule.Role, ref request));
                }
            }
            else if (inactiveRole < 0 && info.Ceiling >= request.Tier && (request.Tags & ~info.Clearances) == 0)
            {
                inactiveRole = rule.Role;
                inactiveRule = info.Rule;
            }
        }

        var denied = grants.Denied(this, ref request);
        if (gates.IsEmpty)
        {
            return denied;
        }

        return inactiveRole >= 0 ? ExplainInactive(table.Roles, subject, inactiveRole, inactiveRule, ref request, denied)
            : denied.RoleIndex >= 0 ? denied.WithBreakGlass(BreakGlassOf(table.Roles, gates, subject, denied.RoleIndex, ref request))
            : denied;
    }

    /// <summary>Step 2's part of the subject: a scope the caller passes on a binding must be well formed, like the resource's.</summary>
    private static bool HasMalformedScope(Subject subject)
    {
        foreach (ref readonly var binding in subject.RoleSpan)
        {
            if (binding.Scope is not null && !AiRbac.Scope.IsValid(binding.Scope))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Step 3: the roles of the bindings in effect for this request (not expired, scope absent or covering the resource's,
    /// role declared) with their ancestors for the subject's kind, built on the stack from precomputed closures; then
    /// the table of that set. <paramref name="fixedSet"/> tells whether the set depends on neither the request nor the time.
    /// </summary>
    private RoleSetTable EffectiveRoles(Subject subject, PolicySubject? known, ref Request request, out bool fixedSet)
    {
        var none = default(RoleSetBuilder);
        return EffectiveRoles(subject, known, ref request, out fixedSet, ref none, recordSeeds: false);
    }

    /// <summary>
    /// Step 3 (see the overload), also appending to <paramref name="seeds"/>, when <paramref name="recordSeeds"/>, the role of
    /// each binding in effect (where the walk for active roles starts). A set holding a gated role is never fixed.
    /// </summary>
    private RoleSetTable EffectiveRoles(Subject subject, PolicySubject? known, ref Request request, out bool fixedSet, ref RoleSetBuilder seeds, bool recordSeeds)
    {
        var kind = KindOf(subject, known);

        // A subject with a few plain bindings (no scope, no expiry, declared roles), the common shape of one built per
        // request, is first looked up in the binding memo by its role ids and kind: a hit is the table of the set those
        // bindings make effective, found without closures, set building, hashing or comparison of the set. The names
        // are looked up once either way: a miss goes on with the ids found here.
        Span<int> ids = stackalloc int[MemoBindings];
        int resolved = 0;
        ulong key = 0;
        int home = 0;
        if (subject.HasRoles && subject.RoleSpan.Length <= MemoBindings)
        {
            resolved = ResolvePlainBindings(subject.RoleSpan, ids, kind, out key);
            if (key != 0 && FindMemo(key, out home) is { } memo)
            {
                if (recordSeeds)
                {
                    seeds.Append(ids[..resolved]);
                }

                fixedSet = !memo.Gated;
                return memo;
            }
        }

        var set = new RoleSetBuilder(stackalloc int[StackRoles]);
        var when = new BindingClock(timeProvider, 0, request.Scope);
        if (subject.HasRoles)
        {
            var bindings = subject.RoleSpan;
            for (int i = 0; i < bindings.Length; i++)
            {
                ref readonly var binding = ref bindings[i];
                int role = i < resolved ? ids[i] : binding.Role is null ? -1 : roleIds.Find(binding.Role);
                if (role >= 0 && when.Applies(binding.Scope, binding.Expires, never: false))
                {
                    set.Append(ClosureOf(role, kind));
                    if (recordSeeds)
                    {
                        seeds.Append(role);
                    }
                }
            }
        }
        else
        {
            foreach (var binding in known!.Bindings)
            {
                int role = roleIds.Find(binding.Role);
                if (role >= 0 && when.Applies(binding.Scope, binding.Expires, binding.Never))
                {
                    set.Append(ClosureOf(role, kind));
                    if (recordSeeds)
                    {
                        seeds.Append(role);
                    }
                }
            }
        }

        var table = TableOf(set.SortedDistinct());
        set.Dispose();
        fixedSet = when.Fixed && !table.Gated;
        if (key != 0)
        {
            Memoize(table, key, home);
        }

        return table;
    }

    /// <summary>
    /// Whether a binding is in effect for the request's scope now: at <paramref name="fixedNow"/> (UTC ticks) when
    /// <paramref name="clock"/> is <see langword="null"/>, else reading the clock once, for the first binding that expires.
    /// Step 3 and the "who holds what" questions (<see cref="EffectiveRoles(Subject, string?, DateTimeOffset?)"/>) both ask it.
    /// </summary>
    private ref struct BindingClock(TimeProvider? clock, long fixedNow, string? scope)
    {
        private long now = clock is null ? fixedNow : long.MinValue;

        /// <summary>Whether every binding seen so far applies whatever the request and the time.</summary>
        public bool Fixed { get; private set; } = true;

        public bool Applies(string? bindingScope, DateTimeOffset? expires, bool never)
        {
            if (never)
            {
                return false;
            }

            if (expires is { } until)
            {
                Fixed = false;
                if (now == long.MinValue)
                {
                    now = clock!.GetUtcNow().UtcTicks;
                }

                if (now >= until.UtcTicks)
                {
                    return false;
                }
            }

            if (bindingScope is not null)
            {
                Fixed = false;
                return scope is not null && AiRbac.Scope.Covers(bindingScope, scope);
            }

            return true;
        }
    }

    /// <summary>The run serving an action: the one naming it, else the last (fallback) run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FindRun(RunSlot[] runs, int actionId)
    {
        int last = runs.Length - 1;
        if (actionId < 0)
        {
            return last;
        }

        if (last <= 8)
        {
            int i = 0;
            while (i < last && runs[i].Action != actionId)
            {
                i++;
            }

            return i;
        }

        // Runs are sorted by action id (the fallback last).
        int lo = 0, hi = last - 1;
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            int a = runs[mid].Action;
            if (a == actionId)
            {
                return mid;
            }

            if (a < actionId)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return last;
    }

    /// <summary>
    /// Where a scan of one section (denies or grants) of a run stands: the scanned rules <c>[Next, End)</c>, merged by
    /// position with the rules the run's hash gives for the resource name (<c>Hits[Hit .. HitEnd)</c>, usually empty).
    /// </summary>
    private struct Scan
    {
        public int Next;
        public int End;
        public int Hit;
        public int HitEnd;
        public int[] Hits;

        public Scan(RunTable run, bool deny, string name)
        {
            Next = deny ? 0 : run.AllowStart;
            End = deny ? run.AllowStart : run.End;
            Hits = [];
            if (run.Index is { } index)
            {
                int at = (deny ? index.Deny : index.Allow)?.Find(name) ?? -1;
                if (at >= 0)
                {
                    Hits = index.Hits;
                    Hit = at + 1;
                    HitEnd = Hit + Hits[at];
                }
            }
        }
    }

    /// <summary>The next rule of the scan that matches the request (skipping rules of <paramref name="skipRole"/>), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextMatch(RunTable run, ref Scan scan, ref Request request, int skipRole)
    {
        var rules = run.Rules;
        var infos = run.Infos;
        while (true)
        {
            int k;
            bool named;
            if (scan.Hit < scan.HitEnd && (scan.Next >= scan.End || infos[scan.Hits[scan.Hit]].Position < infos[scan.Next].Position))
            {
                k = scan.Hits[scan.Hit++];
                named = true; // found by its exact name
            }
            else if (scan.Next < scan.End)
            {
                k = scan.Next++;
                named = false;
            }
            else
            {
                return -1;
            }

            ref readonly var rule = ref rules[k];
            if (rule.Role != skipRole
                && (!rule.TestAction || ActionMatches(infos[k].ActionGlob, ref request))
                && (named || ResourceMatches(in rule, infos, k, run.Chars, ref request)))
            {
                return k;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ActionMatches(int actionGlob, ref Request request)
        => request.ActionId >= 0 && actionGlobMatches.Length != 0
            ? actionGlobMatches[(actionGlob * actionCount) + request.ActionId]
            : actionGlobs[actionGlob].IsMatch(request.Action);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ResourceMatches(in ViewRule rule, ViewRuleInfo[] infos, int index, char[] chars, ref Request request)
    {
        var shape = rule.Shape;
        if (shape == PatternShape.All)
        {
            return true;
        }

        string name = request.Name;
        if (shape == PatternShape.General)
        {
            return infos[index].Pattern!.MatchGeneral(name);
        }

        int length = rule.PrefixLength;
        if (name.Length < length || (shape == PatternShape.Exact && name.Length != length))
        {
            return false;
        }

        // The rules of one run mostly share their start (the resource type): their last four characters tell them
        // apart in one comparison, before the rest is compared. (Read in place: name.Length >= length was checked, and
        // a run's prefixes lie inside its character array by construction.)
        ref char text = ref MemoryMarshal.GetReference(name.AsSpan());
        ref char prefix = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(chars), rule.PrefixStart);
        if (length >= ViewRule.TailLength)
        {
            if (ReadChars(ref Unsafe.Add(ref text, length - ViewRule.TailLength)) != rule.Tail)
            {
                return false;
            }

            // Up to eight characters: the first four and the last four (overlapping) are the whole prefix.
            if (length <= 2 * ViewRule.TailLength && ReadChars(ref text) != ReadChars(ref prefix))
            {
                return false;
            }
        }

        if (length > 2 * ViewRule.TailLength || length < ViewRule.TailLength)
        {
            if (!NameTable.TextEquals(MemoryMarshal.CreateReadOnlySpan(ref text, length), MemoryMarshal.CreateReadOnlySpan(ref prefix, length)))
            {
                return false;
            }
        }

        // A `*` does not cross a '/': the name's last '/' (found once per request) must lie inside the prefix.
        return shape != PatternShape.PrefixNoSlash || request.LastSlash() < length;
    }

    /// <summary>Four characters as one number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadChars(ref char at) => Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<char, byte>(ref at));

    /// <summary>The id of an action the policy names exactly; -1 for any other (and for none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ActionIdOf(string action) => string.IsNullOrEmpty(action) ? -1 : actionIds.Find(action);

    /// <summary>
    /// Step 2's checks of the request, and what the steps read of it: <paramref name="request"/> was made from
    /// <paramref name="resource"/> (whose tier and tags are read here only), <paramref name="actionId"/> is its action's id (-1 if none).
    /// </summary>
    private void Prepare(ref Request request, in ResourceRequest resource, int actionId)
    {
        if (string.IsNullOrEmpty(request.Action) || string.IsNullOrEmpty(request.Name))
        {
            request.Invalid = true;
            return;
        }

        request.ActionId = actionId;

        string? tier = resource.Sensitivity;
        if (tier is not null)
        {
            request.CallerTier = tierIds.Find(tier);
            request.Invalid |= request.CallerTier < 0;
        }

        string? scope = request.Scope;
        request.Invalid |= scope is not null && !AiRbac.Scope.IsValid(scope);
        if (request.Context is { } context)
        {
            request.Invalid |= !IsValidContext(context);
        }

        var tags = resource.Tags;
        if (!tags.IsEmpty)
        {
            foreach (string tag in tags.Span)
            {
                // A tag the policy never names cannot be cleared by any role: it takes the reserved bit.
                int bit = tag is null ? -1 : tagBits.Find(tag);
                request.CallerTags |= bit >= 0 ? 1UL << bit : UnknownTagBit;
            }
        }
    }

    internal const ulong UnknownTagBit = 1UL << 63;

    /// <summary>
    /// Step 8 over the matching roles, in file order, each judged by its first matching grant with its own ceiling and
    /// clearances: the first that fits both allows; otherwise the reason and deciding role and rule of docs/policy-language.md, section 4.
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
            entry = candidates is null ? FindCatalogEntry(request.Name) : FirstMatchingEntry(candidates, request.Name);
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

    internal string RoleName(int role) => roles[role].Name;

    internal string RuleText(int rule) => rules[rule].Text;

    internal SourceLocation RuleLocation(int rule) => rules[rule].Location;

    internal SourceLocation ExclusiveSetLocation(int set) => exclusiveSets[set].Location;

    internal string Explain(DecisionReason reason, int role, int rule, int tier, DecisionReason delegated, int detail, int breakGlassRole)
    {
        string RoleAndRule(string verb) => string.Create(CultureInfo.InvariantCulture,
            $"role '{roles[role].Name}' {verb} '{rules[rule].Text}' ({rules[rule].Location})");
        string name = DecisionReasons.ToName(reason);
        return reason switch
        {
            DecisionReason.Allowed when breakGlassRole >= 0 => $"Allowed through break-glass role '{roles[breakGlassRole].Name}' (activated): {RoleAndRule("grants")}{Approved(detail)}.",
            DecisionReason.Allowed => $"Allowed: {RoleAndRule("grants")}{Approved(detail)}.",
            DecisionReason.MissingIdentity => $"Denied ({name}): the subject has no id or no role bindings.",
            DecisionReason.InvalidRequest => $"Denied ({name}): the request names an undeclared sensitivity tier, a malformed scope, a subject kind outside user, service and agent, or an empty action or resource.",
            DecisionReason.SeparationOfDuties => $"Denied ({name}): the subject holds '{roles[role].Name}' together with another role of the mutually_exclusive list [{string.Join(", ", exclusiveSets[rule].Roles.Select(r => roles[r].Name))}] ({exclusiveSets[rule].Location}).",
            DecisionReason.NoActiveRole => $"Denied ({name}): none of the subject's role bindings is in effect here (expired, out of scope, undeclared, or not for this subject kind).",
            DecisionReason.ExplicitDeny => $"Denied ({name}): {RoleAndRule("denies")}; deny beats allow.",
            DecisionReason.OwnerConflict => $"Denied ({name}): the subject owns the resource, and the two-person rule (not_by_owner) forbids the owner this action.",
            DecisionReason.NoMatchingGrant => $"Denied ({name}): no effective role grants this action on this resource.",
            DecisionReason.SensitivityCeiling => $"Denied ({name}): {RoleAndRule("grants")}, but its ceiling '{tiers[roles[role].Ceiling]}' is below the resource's tier '{tiers[tier]}'.",
            DecisionReason.MissingTagClearance => $"Denied ({name}): {RoleAndRule("grants")} within its ceiling, but no matching role clears every tag of the resource.",
            DecisionReason.ConditionFailed => $"Denied ({name}): {FailedGate(role, rule, detail)}.",
            DecisionReason.BreakGlassNotActive => $"Denied ({name}): {NotActivated(role, rule)}.",
            DecisionReason.ApprovalRequired => $"Denied ({name}): {RoleAndRule("grants")}, but {ApprovalNeeded(detail)}.",
            DecisionReason.DelegationDenied => role >= 0 && rule >= 0 && delegated == DecisionReason.ConditionFailed
                ? $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}): {FailedGate(role, rule, detail)}."
                : role >= 0 && rule >= 0 && delegated == DecisionReason.BreakGlassNotActive
                ? $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}): {NotActivated(role, rule)}."
                : role >= 0 && rule >= 0
                ? $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}): {RoleAndRule(delegated == DecisionReason.ExplicitDeny ? "denies" : "grants")}."
                : $"Denied ({name}): the subject acted on behalf of was denied ({DecisionReasons.ToName(delegated)}).",
            _ => $"Denied ({name}).",
        };
    }

    /// <summary>Why a gated role did not grant: the role that would have, the grant, and the condition that failed.</summary>
    private string FailedGate(int role, int rule, int detail)
    {
        var location = rules[rule].Location;
        string grant = string.Create(CultureInfo.InvariantCulture, $"'{rules[rule].Text}' ({location})");
        string because = (uint)detail < (uint)roles[role].Conditions.Length
            ? string.Create(CultureInfo.InvariantCulture, $"its condition '{roles[role].Conditions[detail].Text}' ({roles[role].Conditions[detail].Location}) does not hold for this request")
            : "its conditions do not hold for this request";
        return $"role '{roles[role].Name}' would grant {grant}, but {because}";
    }

    /// <summary>For an allowed request an approval rule matched: which rule its approvals satisfied.</summary>
    private string Approved(int approvalRule)
        => (uint)approvalRule < (uint)approvalRules.Length ? $"; approval rule '{approvalRules[approvalRule].Name}' ({approvalRules[approvalRule].Location}) is satisfied" : string.Empty;

    /// <summary>Why a break-glass role did not grant: no valid activation of it by the subject.</summary>
    private string NotActivated(int role, int rule)
        => string.Create(CultureInfo.InvariantCulture,
            $"break-glass role '{roles[role].Name}' would grant '{rules[rule].Text}' ({rules[rule].Location}), but the request carries no valid activation of it by this subject (with a justification, started at most {Duration.Format(TimeSpan.FromTicks(roles[role].BreakGlassTicks))} ago)");

    /// <summary>Everything the decision steps need to know about one request, computed once and shared down the on-behalf-of chain.</summary>
    /// <remarks>
    /// The resource's name, scope and owner are read once, field by field, from the caller's resource (a snapshot: a caller
    /// that changes its resource while it is decided cannot make a step read a value another step did not check); its tier
    /// and tags only by <see cref="Prepare"/>. Copying the whole 48-byte resource, once into a temporary and again into the
    /// request, cost single calls a few nanoseconds (docs/benchmarks.md, "Batch decisions").
    /// </remarks>
    private struct Request(string action, in ResourceRequest resource, RequestContext? context)
    {
        public readonly string Action = action;

        // The resource's name, its scope and its owner.
        public readonly string Name = resource.Name;
        public readonly string? Scope = resource.Scope;
        public readonly string? Owner = resource.Owner;

        // What the request carries besides its resource (docs/policy-language.md, section 11), or null.
        public readonly RequestContext? Context = context;
        public int ActionId = -1;
        public int CallerTier = 0;
        public ulong CallerTags;
        public bool Invalid;
        public int Tier;
        public ulong Tags;

        // The index of the resource name's last '/' (-1 if none), once a rule first needs it.
        private int lastSlash = -2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int LastSlash() => lastSlash != -2 ? lastSlash : lastSlash = Name.LastIndexOf('/');

        // Now, in UTC ticks, for the gates of version 2 (read once per request, when first needed).
        private long now = long.MinValue;

        public long Now(TimeProvider clock) => now != long.MinValue ? now : now = clock.GetUtcNow().UtcTicks;

        /// <summary>Sets the instant the gates read (a filter is built as of one instant).</summary>
        public void FixNow(long ticks) => now = ticks;
    }
}
