using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// Translates a <see cref="PolicyFilter"/> into a predicate over mapped records (docs/retrieval.md, "Store filters"). The
/// filter's formula is built in negation normal form; each atom (a name matching a pattern, a scope under a binding scope)
/// is replaced by an expression that is exact when the store can say it, and otherwise by a wider one where the atom is
/// positive and a narrower one where it is negated, so the predicate always passes a superset of what the filter passes.
/// </summary>
internal sealed class StoreFilterBuilder
{
    private static readonly MethodInfo ContainsMethod =
        ((MethodCallExpression)((Expression<Func<IEnumerable<string?>, string?, bool>>)((s, x) => s.Contains(x))).Body).Method;

    private static readonly MethodInfo AllMethod =
        ((MethodCallExpression)((Expression<Func<IEnumerable<string?>, Func<string?, bool>, bool>>)((s, f) => s.All(f))).Body).Method;

    private static readonly ConstantExpression True = Expression.Constant(true);
    private static readonly ConstantExpression False = Expression.Constant(false);
    private static readonly ConstantExpression Null = Expression.Constant(null, typeof(string));

    private readonly PolicyFilter filter;
    private readonly CompiledPolicy policy;
    private readonly Expression name;
    private readonly Expression? scope, tier, tags, owner;
    private readonly LambdaExpression? like;
    private readonly bool tagSubset;
    private readonly Dictionary<(int Ceiling, ulong Clearances), Expression> catalogChecks = [];

    private StoreFilterBuilder(PolicyFilter filter, Expression name, Expression? scope, Expression? tier, Expression? tags, Expression? owner, StoreFilterOptions options)
    {
        this.filter = filter;
        policy = filter.Policy;
        this.name = name;
        this.scope = scope;
        this.tier = tier;
        this.tags = tags;
        this.owner = owner;
        like = options.Like;
        tagSubset = options.TagSubset;
    }

    private StoreFilterApproximations Approximations { get; set; }

    public static StoreFilter<TRecord> Build<TRecord>(PolicyFilter filter, RecordMapping<TRecord> mapping, StoreFilterOptions options)
    {
        var record = Expression.Parameter(typeof(TRecord), "record");
        var builder = new StoreFilterBuilder(filter, RecordMapping<TRecord>.Body(mapping.Name, record)!, RecordMapping<TRecord>.Body(mapping.Scope, record),
            RecordMapping<TRecord>.Body(mapping.Tier, record), RecordMapping<TRecord>.Body(mapping.Tags, record), RecordMapping<TRecord>.Body(mapping.Owner, record), options);
        Expression body = builder.Build();
        return new StoreFilter<TRecord>(filter, mapping, Expression.Lambda<Func<TRecord, bool>>(body, record), builder.Approximations);
    }

    private Expression Build()
    {
        if (!filter.IsComplete)
        {
            // Matching nothing would drop what the subject may read; pass everything and let the post-filter decide.
            Approximations |= StoreFilterApproximations.Incomplete;
            return True;
        }

        // Step 2's part of the request: a name, a well-formed scope, a declared tier.
        Expression valid = And(Expression.NotEqual(name, Null), Expression.NotEqual(name, Expression.Constant(string.Empty)));
        if (tier is not null)
        {
            valid = And(valid, Or(Expression.Equal(tier, Null), Contains(Expression.Constant(policy.TierNames), tier)));
        }

        if (scope is not null)
        {
            valid = And(valid, Or(Expression.Equal(scope, Null), ScopeIsValid()));
        }

        Expression branches = False;
        foreach (var branch in filter.Branches)
        {
            Expression selected = Selects(branch);
            if (IsFalse(selected))
            {
                continue;
            }

            Expression links = True;
            foreach (var link in branch.Links)
            {
                links = And(links, Link(link));
            }

            branches = Or(branches, And(selected, links));
        }

        return And(valid, branches);
    }

    /// <summary>Whether a record's scope selects the branch (widened when scopes cannot be tested exactly).</summary>
    private Expression Selects(FilterBranch branch)
    {
        if (scope is null)
        {
            return branch.Scope is null ? True : False; // records have no scope: the first branch only
        }

        Expression selected = branch.Scope is null ? True : Under(branch.Scope, wide: true);
        Expression outside = True;
        foreach (string deeper in branch.ExceptUnder)
        {
            outside = And(outside, Not(Under(deeper, wide: false)));
        }

        return branch.Scope is null ? Or(Expression.Equal(scope, Null), outside) : And(selected, outside);
    }

    /// <summary>A record's scope is the binding scope or below it; widened (<paramref name="wide"/>) or narrowed when it cannot be said.</summary>
    private Expression Under(string bindingScope, bool wide)
    {
        Expression same = Expression.Equal(scope!, Expression.Constant(bindingScope));
        if (like is not null)
        {
            return Or(same, Like(scope!, Escape(bindingScope) + "/%"));
        }

        Approximations |= StoreFilterApproximations.ScopePaths;
        return wide ? Expression.NotEqual(scope!, Null) : same;
    }

    /// <summary>Scope syntax (docs/policy-language.md, section 2): non-empty segments joined by single slashes.</summary>
    private Expression ScopeIsValid()
    {
        Expression notEmpty = Expression.NotEqual(scope!, Expression.Constant(string.Empty));
        if (like is null)
        {
            Approximations |= StoreFilterApproximations.ScopePaths;
            return notEmpty;
        }

        return And(notEmpty, And(Not(Like(scope!, "/%")), And(Not(Like(scope!, "%/")), Not(Like(scope!, "%//%")))));
    }

    /// <summary>One link's clauses: denies, the owner rule, then one of its roles' grants.</summary>
    private Expression Link(FilterLink link)
    {
        if (link.DeniedBecause is not null)
        {
            return False;
        }

        Expression passes = True;
        foreach (var deny in link.DenyPatterns)
        {
            passes = And(passes, Not(NameMatches(deny, wide: false)));
        }

        if (link.OwnerRule && owner is not null)
        {
            passes = And(passes, Expression.NotEqual(owner, Expression.Constant(link.SubjectId)));
        }

        Expression granted = False;
        foreach (var grant in link.Grants)
        {
            granted = Or(granted, Grant(grant));
        }

        return And(passes, granted);
    }

    /// <summary>One role's grants: a name it grants, the caller's tier and tags within its ceiling and clearances, and the catalog's.</summary>
    private Expression Grant(FilterGrant grant)
    {
        Expression names = False;
        foreach (var pattern in grant.Patterns)
        {
            names = Or(names, NameMatches(pattern, wide: true));
        }

        if (IsFalse(names))
        {
            return False;
        }

        string[] tiers = policy.TierNames;
        Expression callerTier = tier is null || grant.Ceiling >= tiers.Length - 1
            ? True // an undeclared tier is refused by the validity clause
            : Or(Expression.Equal(tier, Null), Contains(Expression.Constant(tiers[..(grant.Ceiling + 1)]), tier));
        return And(names, And(callerTier, And(CallerTags(grant.ClearanceBits), Catalog(grant.Ceiling, grant.ClearanceBits))));
    }

    /// <summary>Every tag of the record is among the clearances (a tag the policy never names never is).</summary>
    private Expression CallerTags(ulong clearances)
    {
        if (tags is null)
        {
            return True;
        }

        string[] names = policy.TagNames;
        if (tagSubset)
        {
            string?[] cleared = [.. names.Where((_, bit) => (clearances & (1UL << bit)) != 0)];
            var tag = Expression.Parameter(typeof(string), "tag");
            // A null tag is never cleared (docs/policy-language.md, section 5, as the decision reads it: an unknown tag).
            var test = Expression.Lambda<Func<string?, bool>>(And(Expression.NotEqual(tag, Null), Contains(Expression.Constant(cleared), tag)), tag);
            return Or(NoTags(), Expression.Call(AllMethod, tags, test));
        }

        Approximations |= StoreFilterApproximations.UnknownTags;
        Expression result = True;
        for (int bit = 0; bit < names.Length; bit++)
        {
            if ((clearances & (1UL << bit)) == 0)
            {
                result = And(result, Not(Contains(tags, Expression.Constant(names[bit]))));
            }
        }

        return IsTrue(result) ? result : Or(NoTags(), result);
    }

    /// <summary>The record has no tags (a null collection: no caller tags).</summary>
    private BinaryExpression NoTags() => Expression.Equal(tags!, Expression.Constant(null, tags!.Type));

    /// <summary>
    /// The catalog's tier and tags for the name are within a ceiling and clearances: the first entry matching the name
    /// decides, else the default tier. Folded from the last entry: an entry that fits gives "matches it, or the rest",
    /// one that does not gives "does not match it, and the rest".
    /// </summary>
    private Expression Catalog(int ceiling, ulong clearances)
    {
        if (catalogChecks.TryGetValue((ceiling, clearances), out var cached))
        {
            return cached;
        }

        var catalog = policy.CatalogEntries;
        Expression rest = policy.DefaultTier <= ceiling ? True : False;
        for (int i = catalog.Length - 1; i >= 0; i--)
        {
            bool fits = catalog[i].Tier <= ceiling && (catalog[i].Tags & ~clearances) == 0;
            rest = fits ? Or(NameMatches(catalog[i].Pattern, wide: true), rest) : And(Not(NameMatches(catalog[i].Pattern, wide: false)), rest);
        }

        catalogChecks.Add((ceiling, clearances), rest);
        return rest;
    }

    /// <summary>The name matches a glob: exact, or widened (<paramref name="wide"/>) or narrowed when the store cannot say it.</summary>
    private Expression NameMatches(Pattern pattern, bool wide)
    {
        if (pattern.Shape == PatternShape.All)
        {
            return True;
        }

        if (pattern.IsExact)
        {
            return Expression.Equal(name, Expression.Constant(pattern.Literal));
        }

        if (like is not null)
        {
            var (likePattern, exact) = ToLike(pattern);
            if (exact)
            {
                return Like(name, likePattern);
            }

            Approximations |= StoreFilterApproximations.NamePatterns;
            return wide ? Like(name, likePattern) : False;
        }

        Approximations |= StoreFilterApproximations.NamePatterns;
        return wide ? True : False;
    }

    /// <summary>
    /// A glob as a <c>LIKE</c> pattern: literals escaped, <c>**</c> as <c>%</c> (exact: it matches any run); <c>*</c>,
    /// <c>?</c> and classes as <c>%</c> too, which widens them (they never match <c>/</c>, and <c>_</c> would not match a
    /// surrogate pair as <c>?</c> matches one code unit).
    /// </summary>
    internal static (string Pattern, bool Exact) ToLike(Pattern pattern)
    {
        var sb = new StringBuilder();
        bool exact = true;
        foreach (var token in pattern.Tokens)
        {
            if (token.Kind == PatternTokenKind.Literal)
            {
                sb.Append(Escape(token.Literal!));
                continue;
            }

            exact &= token.Kind == PatternTokenKind.DoubleStar;
            if (sb.Length == 0 || sb[^1] != '%' || (sb.Length >= 2 && sb[^2] == '\\'))
            {
                sb.Append('%');
            }
        }

        return (sb.ToString(), exact);
    }

    /// <summary>Escapes <c>\</c>, <c>%</c> and <c>_</c> with <c>\</c>.</summary>
    internal static string Escape(string literal)
    {
        var sb = new StringBuilder(literal.Length + 4);
        foreach (char c in literal)
        {
            if (c is '\\' or '%' or '_')
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private Expression Like(Expression field, string pattern)
        => new ParameterReplacer(like!.Parameters[1], Expression.Constant(pattern)).Visit(new ParameterReplacer(like.Parameters[0], field).Visit(like.Body));

    private static MethodCallExpression Contains(Expression collection, Expression item) => Expression.Call(ContainsMethod, collection, item);

    private static bool IsTrue(Expression e) => e is ConstantExpression { Value: true };

    private static bool IsFalse(Expression e) => e is ConstantExpression { Value: false };

    private static Expression And(Expression a, Expression b)
        => IsFalse(a) || IsFalse(b) ? False : IsTrue(a) ? b : IsTrue(b) ? a : Expression.AndAlso(a, b);

    private static Expression Or(Expression a, Expression b)
        => IsTrue(a) || IsTrue(b) ? True : IsFalse(a) ? b : IsFalse(b) ? a : Expression.OrElse(a, b);

    private static Expression Not(Expression e) => IsTrue(e) ? False : IsFalse(e) ? True : Expression.Not(e);
}
