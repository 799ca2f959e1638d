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
    private readonly bool parameters;
    private readonly Dictionary<(int Ceiling, ulong Clearances), Expression> catalogChecks = [];
    private readonly Dictionary<(MethodInfo Kind, string Value), Expression> strings = [];
    private readonly Dictionary<int, Expression> tierLists = [];
    private readonly Dictionary<ulong, Expression> tagLists = [];

    private StoreFilterBuilder(PolicyFilter filter, Expression name, Expression? scope, Expression? tier, Expression? tags, Expression? owner, StoreFilterOptions options, bool parameters)
    {
        this.parameters = parameters;
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

    /// <summary>
    /// The store filter, its values held as query parameters (docs/retrieval.md, "Parameters"); past
    /// <see cref="Tuning.Store.MaxParameters"/> distinct values, built again with every value inlined as a constant.
    /// </summary>
    public static StoreFilter<TRecord> Build<TRecord>(PolicyFilter filter, RecordMapping<TRecord> mapping, StoreFilterOptions options)
    {
        var record = Expression.Parameter(typeof(TRecord), "record");
        var builder = Builder(parameters: true);
        Expression body = builder.Build();
        if (builder.ParameterCount > Tuning.Store.MaxParameters)
        {
            builder = Builder(parameters: false);
            body = builder.Build();
        }

        return new StoreFilter<TRecord>(filter, mapping, Expression.Lambda<Func<TRecord, bool>>(body, record), builder.Approximations);

        StoreFilterBuilder Builder(bool parameters) => new(filter, RecordMapping<TRecord>.Body(mapping.Name, record)!, RecordMapping<TRecord>.Body(mapping.Scope, record),
            RecordMapping<TRecord>.Body(mapping.Tier, record), RecordMapping<TRecord>.Body(mapping.Tags, record), RecordMapping<TRecord>.Body(mapping.Owner, record), options, parameters);
    }

    /// <summary>The distinct values held as parameters (strings, tier lists and clearance lists).</summary>
    private int ParameterCount => strings.Count + tierLists.Count + tagLists.Count;

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
            valid = And(valid, Or(Expression.Equal(tier, Null), Contains(TierList(policy.TierNames.Length - 1), tier)));
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
        Expression same = Expression.Equal(scope!, Value(bindingScope, StoreFilterValue.Scope));
        if (like is not null)
        {
            return Or(same, Like(scope!, Value(Escape(bindingScope) + "/%", StoreFilterValue.ScopeBelow)));
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

        // Fixed patterns of the syntax, the same for every filter: constants.
        return And(notEmpty, And(Not(Like(scope!, Expression.Constant("/%"))), And(Not(Like(scope!, Expression.Constant("%/"))), Not(Like(scope!, Expression.Constant("%//%"))))));
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
            passes = And(passes, Expression.NotEqual(owner, Value(link.SubjectId, StoreFilterValue.Owner)));
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
            : Or(Expression.Equal(tier, Null), Contains(TierList(grant.Ceiling), tier));
        return And(names, And(callerTier, And(CallerTags(grant.ClearanceBits), Catalog(grant.Ceiling, grant.ClearanceBits))));
    }

    /// <summary>Every tag of the record is among the clearances (a tag the policy never names never is).</summary>
    private Expression CallerTags(ulong clearances)
    {
        if (tags is null)
        {
            return True;
        }

        if (tagSubset)
        {
            var tag = Expression.Parameter(typeof(string), "tag");
            // A null tag is never cleared (docs/policy-language.md, section 5, as the decision reads it: an unknown tag): the
            // cleared list holds no null, and PostgreSQL's "tags <@ cleared", what Npgsql makes of this shape, never
            // counts a null element as contained (the store tests' rows with a null tag check it).
            var test = Expression.Lambda<Func<string?, bool>>(Contains(TagList(clearances), tag), tag);
            return Or(NoTags(), Expression.Call(AllMethod, tags, test));
        }

        Approximations |= StoreFilterApproximations.UnknownTags;
        string[] names = policy.TagNames;
        Expression result = True;
        for (int bit = 0; bit < names.Length; bit++)
        {
            if ((clearances & (1UL << bit)) == 0)
            {
                result = And(result, Not(Contains(tags, Value(names[bit], StoreFilterValue.Tag))));
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
            return Expression.Equal(name, Value(pattern.Literal, StoreFilterValue.Name));
        }

        if (like is not null)
        {
            // A name pattern stays a constant (docs/retrieval.md, "Parameters"): it is the policy's, the same for every
            // subject with the role set, and PostgreSQL plans a LIKE with a constant pattern better than with a parameter.
            var (likePattern, exact) = ToLike(pattern);
            if (exact)
            {
                return Like(name, Expression.Constant(likePattern));
            }

            Approximations |= StoreFilterApproximations.NamePatterns;
            return wide ? Like(name, Expression.Constant(likePattern)) : False;
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

    private Expression Like(Expression field, Expression pattern)
        => new ParameterReplacer(like!.Parameters[1], pattern).Visit(new ParameterReplacer(like.Parameters[0], field).Visit(like.Body));

    /// <summary>
    /// A string of the filter: a parameter (one per distinct value and kind, so a store sends each once), or a constant
    /// when parameters are off.
    /// </summary>
    private Expression Value(string value, Func<string, MemberExpression> kind)
    {
        if (!parameters)
        {
            return Expression.Constant(value);
        }

        var key = (kind.Method, value);
        if (!strings.TryGetValue(key, out var held))
        {
            held = kind(value);
            strings.Add(key, held);
        }

        return held;
    }

    /// <summary>The declared tiers up to <paramref name="ceiling"/>, in order.</summary>
    private Expression TierList(int ceiling)
    {
        if (!tierLists.TryGetValue(ceiling, out var held))
        {
            string?[] tiers = policy.TierNames[..(ceiling + 1)];
            held = parameters ? StoreFilterValue.Tiers(tiers) : Expression.Constant(tiers);
            tierLists.Add(ceiling, held);
        }

        return held;
    }

    /// <summary>The tags the policy names whose bits are set in <paramref name="clearances"/>.</summary>
    private Expression TagList(ulong clearances)
    {
        if (!tagLists.TryGetValue(clearances, out var held))
        {
            string[] names = policy.TagNames;
            string?[] cleared = [.. names.Where((_, bit) => (clearances & (1UL << bit)) != 0)];
            held = parameters ? StoreFilterValue.Clearances(cleared) : Expression.Constant(cleared);
            tagLists.Add(clearances, held);
        }

        return held;
    }

    private static MethodCallExpression Contains(Expression collection, Expression item) => Expression.Call(ContainsMethod, collection, item);

    private static bool IsTrue(Expression e) => e is ConstantExpression { Value: true };

    private static bool IsFalse(Expression e) => e is ConstantExpression { Value: false };

    private static Expression And(Expression a, Expression b)
        => IsFalse(a) || IsFalse(b) ? False : IsTrue(a) ? b : IsTrue(b) ? a : Expression.AndAlso(a, b);

    private static Expression Or(Expression a, Expression b)
        => IsTrue(a) || IsTrue(b) ? True : IsFalse(a) ? b : IsFalse(b) ? a : Expression.OrElse(a, b);

    private static Expression Not(Expression e) => IsTrue(e) ? False : IsFalse(e) ? True : Expression.Not(e);
}

/// <summary>
/// A value of a store filter held by an object and read through one of its properties: the shape of a captured variable
/// (<c>r =&gt; r.Tier == tier</c>), which LINQ providers send as a query parameter instead of inlining it (EF Core; the
/// relational <c>Microsoft.Extensions.VectorData</c> connectors), so that subjects whose filters differ only in these
/// values share one statement and one plan (docs/retrieval.md, "Parameters"). The property read names the parameter
/// (EF Core: <c>@Scope</c>, <c>@Owner</c>, <c>@Tiers</c>).
/// </summary>
internal static class StoreFilterValue
{
    /// <summary>An exact resource name of a rule.</summary>
    public static MemberExpression Name(string value) => Holder<string>.Read(value, Holder<string>.NameProperty);

    /// <summary>A binding scope.</summary>
    public static MemberExpression Scope(string value) => Holder<string>.Read(value, Holder<string>.ScopeProperty);

    /// <summary>The <c>LIKE</c> pattern of the scopes below a binding scope.</summary>
    public static MemberExpression ScopeBelow(string value) => Holder<string>.Read(value, Holder<string>.ScopeBelowProperty);

    /// <summary>The id of a subject the owner rule keeps from its own resources.</summary>
    public static MemberExpression Owner(string value) => Holder<string>.Read(value, Holder<string>.OwnerProperty);

    /// <summary>A tag the policy names.</summary>
    public static MemberExpression Tag(string value) => Holder<string>.Read(value, Holder<string>.TagProperty);

    /// <summary>Tier names (those up to a ceiling).</summary>
    public static MemberExpression Tiers(string?[] value) => Holder<string?[]>.Read(value, Holder<string?[]>.TiersProperty);

    /// <summary>The tags a role clears.</summary>
    public static MemberExpression Clearances(string?[] value) => Holder<string?[]>.Read(value, Holder<string?[]>.ClearancesProperty);

    /// <summary>The object holding one value; each property returns it, under the name its parameter gets.</summary>
    private sealed class Holder<T>(T value)
    {
        public static readonly MemberInfo NameProperty = Member(h => h.Name);
        public static readonly MemberInfo ScopeProperty = Member(h => h.Scope);
        public static readonly MemberInfo ScopeBelowProperty = Member(h => h.ScopeBelow);
        public static readonly MemberInfo OwnerProperty = Member(h => h.Owner);
        public static readonly MemberInfo TagProperty = Member(h => h.Tag);
        public static readonly MemberInfo TiersProperty = Member(h => h.Tiers);
        public static readonly MemberInfo ClearancesProperty = Member(h => h.Clearances);

        public T Name => value;

        public T Scope => value;

        public T ScopeBelow => value;

        public T Owner => value;

        public T Tag => value;

        public T Tiers => value;

        public T Clearances => value;

        public static MemberExpression Read(T value, MemberInfo property) => Expression.MakeMemberAccess(Expression.Constant(new Holder<T>(value)), property);

        private static MemberInfo Member(Expression<Func<Holder<T>, T>> read) => ((MemberExpression)read.Body).Member;
    }
}
