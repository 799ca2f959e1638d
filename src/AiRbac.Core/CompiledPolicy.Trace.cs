// The explain path for tools: which parts of the policy took part in a decision (the deciding rule of every subject
// of the on-behalf-of chain, the catalog entry that classified the resource, the not_by_owner entry that matched).
// Off the decision path: Authorize never calls it, and it allocates.

using AiRbac.Model;

namespace AiRbac;

public sealed partial class CompiledPolicy
{
    /// <summary>
    /// Decides a request exactly as <see cref="Authorize(Subject, string, in ResourceRequest)"/> does and says which
    /// parts of the policy took part: the decision of each subject of the on-behalf-of chain decided alone, the
    /// <c>resources</c> entry that gave the resource its catalog tier and tags, and the <c>not_by_owner</c> entry that
    /// matched. For tools that explain or test decisions (<c>airbac test</c>'s rule coverage, <c>airbac check</c>'s
    /// details); cold path: it allocates, so never call it per request in a service.
    /// </summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <param name="resource">The resource with its scope, tier, tags and owner as the caller knows them.</param>
    /// <returns>The decision and what took part in it.</returns>
    public DecisionTrace Trace(Subject subject, string action, in ResourceRequest resource)
        => Trace(subject, action, resource, null);

    /// <summary>
    /// <see cref="Trace(Subject, string, in ResourceRequest)"/> for a request that carries a context (docs/policy-language.md,
    /// sections 11 and 12): decides it exactly as <see cref="Authorize(Subject, string, in ResourceRequest, RequestContext?)"/> does.
    /// </summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <param name="resource">The resource with its scope, tier, tags and owner as the caller knows them.</param>
    /// <param name="context">The request's context, or <see langword="null"/>.</param>
    /// <returns>The decision and what took part in it.</returns>
    public DecisionTrace Trace(Subject subject, string action, in ResourceRequest resource, RequestContext? context)
    {
        var decision = Authorize(subject, action, resource, context);
        var chain = new List<Decision> { decision };
        if (subject?.OnBehalfOf is not null && decision.Reason is DecisionReason.Allowed or DecisionReason.DelegationDenied or DecisionReason.ApprovalRequired)
        {
            // Steps 1 to 8 for the actor, then step 9 as AfterActor runs it: each link decided alone (the same method)
            // on the same request, in chain order, up to the first that is denied.
            chain.Clear();
            var request = new Request(action, in resource, context);
            Prepare(ref request, in resource, ActionIdOf(action));
            for (var link = subject; link is not null; link = link.OnBehalfOf)
            {
                var alone = Decide(link, ref request);
                chain.Add(alone);
                if (!alone.Allowed)
                {
                    break;
                }
            }
        }

        // The catalog is read at step 8, once some role's grant matches (Classify): the actor's decision got there when
        // it names a grant, and a delegation_denied actor was allowed.
        SourceLocation? catalogEntry = null;
        if (decision.Reason is DecisionReason.Allowed or DecisionReason.SensitivityCeiling or DecisionReason.MissingTagClearance
            or DecisionReason.ConditionFailed or DecisionReason.BreakGlassNotActive or DecisionReason.ApprovalRequired
            or DecisionReason.DelegationDenied && FindCatalogEntry(resource.Name) is >= 0 and var entry)
        {
            catalogEntry = catalogLocations[entry];
        }

        SourceLocation? ownerEntry = null;
        bool owner = decision.Reason == DecisionReason.OwnerConflict
            || (decision.Reason == DecisionReason.DelegationDenied && decision.DelegatedReason == DecisionReason.OwnerConflict);
        if (owner)
        {
            int first = Array.FindIndex(notByOwner, p => p.IsMatch(action));
            ownerEntry = first >= 0 ? notByOwnerLocations[first] : null;
        }

        return new DecisionTrace(decision, chain, catalogEntry, ownerEntry, hasGates ? ConditionsThatDecided(subject!, chain, action, resource, context) : []);
    }

    /// <summary>
    /// The role conditions that held and decided the decisions of <paramref name="chain"/> (<see cref="DecisionTrace.HeldConditionLocations"/>):
    /// for a decision naming the role whose grant was judged (allowed, the ceiling and clearance denials, approval_required),
    /// every condition of each active role with conditions that brings that role, unless step 3's walk also reaches the
    /// role without entering a role with conditions.
    /// </summary>
    private List<SourceLocation> ConditionsThatDecided(Subject subject, List<Decision> chain, string action, in ResourceRequest resource, RequestContext? context)
    {
        var found = new List<SourceLocation>();
        var link = subject;
        foreach (var decision in chain)
        {
            if (link is null)
            {
                break;
            }

            int role = decision.RoleIndex;
            if (role >= 0 && decision.Reason is DecisionReason.Allowed or DecisionReason.SensitivityCeiling
                or DecisionReason.MissingTagClearance or DecisionReason.ApprovalRequired)
            {
                var request = new Request(action, in resource, context);
                Prepare(ref request, in resource, ActionIdOf(action));
                HeldConditions(link, role, ref request, found);
            }

            link = link.OnBehalfOf;
        }

        return found;
    }

    /// <summary>Adds the conditions of the roles with conditions through which <paramref name="role"/> is active for <paramref name="subject"/> (step 3's walk, by the same code).</summary>
    private void HeldConditions(Subject subject, int role, ref Request request, List<SourceLocation> found)
    {
        var known = Known(subject);
        var seeds = new RoleSetBuilder(stackalloc int[StackRoles]);
        var table = EffectiveRoles(subject, known, ref request, out _, ref seeds, recordSeeds: true);
        int[] held = table.Roles;
        if (table.Gated && Array.BinarySearch(held, role) >= 0)
        {
            var kind = KindOf(subject, known);
            var state = new byte[held.Length];
            MarkActive(held, kind, seeds.Appended, state, new int[held.Length], subject.Id, ref request);
            byte kindBit = (byte)(1 << (int)kind);
            bool Active(int r) => (roles[r].KindMask & kindBit) != 0 && Array.BinarySearch(held, r) is >= 0 and var at && (state[at] & GateActive) != 0;

            // Whether target is reached from the starts through active roles (and, when asked, no role with conditions).
            bool Reaches(IEnumerable<int> starts, int target, bool avoidConditions)
            {
                var seen = new HashSet<int>();
                var pending = new Stack<int>(starts);
                while (pending.TryPop(out int next))
                {
                    if (!Active(next) || (avoidConditions && roles[next].Conditions.Length > 0) || !seen.Add(next))
                    {
                        continue;
                    }

                    if (next == target)
                    {
                        return true;
                    }

                    foreach (int parent in roles[next].Parents)
                    {
                        pending.Push(parent);
                    }
                }

                return false;
            }

            if (!Reaches(seeds.Appended.ToArray(), role, avoidConditions: true))
            {
                foreach (int gated in held)
                {
                    if (roles[gated].Conditions.Length > 0 && Reaches([gated], role, avoidConditions: false))
                    {
                        found.AddRange(roles[gated].Conditions.Select(c => c.Location));
                    }
                }
            }
        }

        seeds.Dispose();
    }
}

/// <summary>
/// A decision and the parts of the policy that took part in it (<see cref="CompiledPolicy.Trace(Subject, string, in ResourceRequest, RequestContext?)"/>): for tools that
/// explain or test decisions, such as <c>airbac test</c>'s rule coverage.
/// </summary>
public sealed class DecisionTrace
{
    internal DecisionTrace(Decision decision, List<Decision> chain, SourceLocation? catalogEntryLocation, SourceLocation? notByOwnerLocation,
        List<SourceLocation> heldConditionLocations)
    {
        HeldConditionLocations = heldConditionLocations.AsReadOnly();
        Decision = decision;
        Chain = chain.AsReadOnly();
        CatalogEntryLocation = catalogEntryLocation;
        NotByOwnerLocation = notByOwnerLocation;
    }

    /// <summary>The decision, the same as <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> gives.</summary>
    public Decision Decision { get; }

    /// <summary>
    /// The decision of each subject of the chain decided alone (steps 1 to 8 of docs/policy-language.md, section 4), the
    /// actor first and then, when the actor was allowed, each subject down its on-behalf-of chain (step 9, section 6) up
    /// to and including the first one denied: <c>Chain[1]</c> is the subject the actor acts for. A subject that acts for
    /// no one, or an actor that was denied, gives one entry, <see cref="Decision"/>. Each names its own deciding role and
    /// rule, with its <see cref="Decision.RuleLocation"/> (also for a link denied for separation of duties, which the
    /// chain's <c>delegation_denied</c> decision names without a rule).
    /// </summary>
    public IReadOnlyList<Decision> Chain { get; }

    /// <summary>
    /// Where the <c>resources</c> entry that gave the resource its catalog tier and tags was written, when the decision
    /// judged a matching grant against them (reasons <c>allowed</c>, <c>sensitivity_ceiling</c>,
    /// <c>missing_tag_clearance</c>, and <c>delegation_denied</c>, whose actor was allowed); <see langword="null"/> when no
    /// entry matches the resource (it has <c>default_sensitivity</c>) or no grant was judged.
    /// </summary>
    public SourceLocation? CatalogEntryLocation { get; }

    /// <summary>
    /// For <c>owner_conflict</c> (of the actor, or of the denied link of a <c>delegation_denied</c>): where the first
    /// <c>not_by_owner</c> entry matching the action was written; otherwise <see langword="null"/>.
    /// </summary>
    public SourceLocation? NotByOwnerLocation { get; }

    /// <summary>
    /// Version 2 (docs/policy-language.md, section 11): where each role condition that held and decided was written, for
    /// every decision of <see cref="Chain"/> whose role's grant was judged (<c>allowed</c>, <c>sensitivity_ceiling</c>,
    /// <c>missing_tag_clearance</c>, <c>approval_required</c>): every condition of each active role with conditions that
    /// brings the deciding role (the role itself, or one inheriting it). They held, and the role would not have been active
    /// without them: none is listed when the role is also reached without entering a role with conditions. A condition
    /// that failed is the one a <c>condition_failed</c> decision names (<see cref="Decision.Condition"/>). Empty for a
    /// version 1 policy and for every other reason.
    /// </summary>
    public IReadOnlyList<SourceLocation> HeldConditionLocations { get; }
}
