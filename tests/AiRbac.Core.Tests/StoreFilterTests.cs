using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using AiRbac.Core.Tests.Reference;
using AiRbac.Model;
using Xunit.Abstractions;

namespace AiRbac.Core.Tests;

/// <summary>
/// <see cref="PolicyFilter.ToStoreFilter{TRecord}"/>: every produced tree holds only the node shapes stores translate (the
/// operator's check), and on random policies and records the predicate passes every record <c>Authorize</c> allows,
/// exactly those when it says it is exact, and the post-filter makes the result exact (docs/retrieval.md, "Store filters").
/// </summary>
public sealed class StoreFilterTests(ITestOutputHelper output)
{
    private const int Policies = 600;
    private const int FiltersPerPolicy = 4;
    private const int RecordsPerFilter = 40;

    /// <summary>A stored document, as a store's record type would hold it.</summary>
    public sealed class Doc
    {
        public string Name { get; set; } = string.Empty;

        public string? Scope { get; set; }

        public string? Tier { get; set; }

        public string?[]? Tags { get; set; }

        public string? Owner { get; set; }
    }

    internal static readonly RecordMapping<Doc> Full = new(d => d.Name)
    {
        Scope = d => d.Scope,
        Tier = d => d.Tier,
        Tags = d => d.Tags,
        Owner = d => d.Owner,
    };

    private static readonly RecordMapping<Doc> NameOnly = new(d => d.Name);

    private static readonly RecordMapping<Doc> NoScope = new(d => d.Name) { Tier = d => d.Tier, Owner = d => d.Owner };

    /// <summary>An in-memory <c>LIKE</c> with <c>\</c> as escape, standing in for the store's (PostgreSQL's is tested in AiRbac.Store.Tests).</summary>
    public static bool Like(string? value, string pattern) => value is not null && LikeAt(value, 0, pattern, 0);

    private static readonly StoreFilterOptions LikeOptions = new() { Like = (s, p) => Like(s, p), TagSubset = true };

    private static readonly MethodInfo LikeMethod = typeof(StoreFilterTests).GetMethod(nameof(Like))!;

    [Fact]
    public void RandomPolicies_PredicateIsASupersetOfWhatAuthorizeAllows_ExactWhenItSaysSo_AndThePostFilterIsExact()
    {
        var clock = new FixedClock(RandomPolicyGenerator.Now);
        var mismatches = new List<string>();
        int records = 0, allowedCount = 0, filters = 0, exactFilters = 0, exactNonConstant = 0, exactRecords = 0, widened = 0;
        var modes = new (string Name, RecordMapping<Doc> Mapping, StoreFilterOptions? Options)[]
        {
            ("vector full", Full, null), ("vector name", NameOnly, null), ("vector no scope", NoScope, null), ("like full", Full, LikeOptions),
        };
        for (int seed = 1; seed <= Policies; seed++)
        {
            var generator = new RandomPolicyGenerator(seed);
            PolicyDocument doc = generator.NextPolicy();
            CompiledPolicy policy = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            var random = new Random(seed * 7);
            for (int f = 0; f < FiltersPerPolicy; f++)
            {
                var (subject, action, resources) = BatchAndFilterDifferentialTests.NextBatch(generator, doc, policy, random, RecordsPerFilter);
                var (modeName, mapping, options) = modes[(seed + f) % modes.Length];
                PolicyFilter filter = policy.FilterFor(subject, action);
                StoreFilter<Doc> store = filter.ToStoreFilter(mapping, options);
                AllowedShapes.Check(store.Predicate, options is not null);
                Func<Doc, bool> predicate = store.Predicate.Compile();
                filters++;
                exactFilters += store.IsExact ? 1 : 0;
                exactNonConstant += store.IsExact && store.Predicate.Body is not ConstantExpression ? 1 : 0;
                var docs = resources.Select(r => ToDoc(r, random)).ToArray();
                var passed = new List<Doc>();
                var expected = new List<Doc>();
                foreach (Doc d in docs)
                {
                    records++;
                    bool allowed = policy.Authorize(subject, action, mapping.ToResource(d)).Allowed;
                    bool inStore = predicate(d);
                    allowedCount += allowed ? 1 : 0;
                    exactRecords += store.IsExact ? 1 : 0;
                    widened += inStore && !allowed ? 1 : 0;
                    if (inStore)
                    {
                        passed.Add(d);
                    }

                    if (allowed)
                    {
                        expected.Add(d);
                    }

                    if ((allowed && !inStore) || (store.IsExact && inStore != allowed))
                    {
                        Report(mismatches, $"seed {seed} filter {f} ({modeName}, {store.Approximations}): {Show(d)} allowed {allowed}, store {inStore}\n{store.Predicate}\n{filter}");
                    }
                }

                if (!store.PostFilter(passed).SequenceEqual(expected))
                {
                    Report(mismatches, $"seed {seed} filter {f} ({modeName}): the post-filter differs from Authorize");
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Policies} policies, {filters} store filters ({exactFilters} exact, {exactNonConstant} of them not constant), {records} records ({exactRecords} under exact filters), {allowedCount} allowed, {widened} passed by the store and removed by the post-filter, {mismatches.Count} mismatches"));
        mismatches.Should().BeEmpty();
        filters.Should().BeGreaterThanOrEqualTo(2_000);
        allowedCount.Should().BeGreaterThan(records / 10, "the filters must pass a fair share of records, or the test proves little");
        exactNonConstant.Should().BeGreaterThan(20, "exact translations must be exercised (the generator's catalogs hold globs, which make most filters inexact, and its approval rules leave some incomplete; ExactPoliciesWithLike covers exactness exhaustively)");
        widened.Should().BeGreaterThan(0, "superset translations must be exercised");
    }

    [Fact]
    public void ExactPoliciesWithLike_StoreFilterIsExact_AndAgreesWithAuthorizeWithoutPostFilter()
    {
        var policy = new TestPolicy()
            .Role("analyst", allow: ["data:read on doc:**"], deny: ["data:read on doc:secret/**", "data:read on doc:a%b_c\\d"], max: "confidential", clearances: ["pii"])
            .Role("clinician", allow: ["data:read on doc:patients/**", "data:read on doc:x"], max: "restricted", clearances: ["phi"])
            .Catalog("doc:patients/**", "restricted", "phi")
            .Catalog("doc:hr/**", "confidential", "pii")
            .Catalog("doc:**", "internal")
            .Owner("data:read")
            .Build();
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("analyst")]);
        StoreFilter<Doc> store = policy.FilterFor(carol, "data:read").ToStoreFilter(Full, LikeOptions);
        store.IsExact.Should().BeTrue(store.Approximations.ToString());
        AllowedShapes.Check(store.Predicate, like: true);
        var predicate = store.Predicate.Compile();
        string[] names = ["doc:a%b_c\\d", "doc:aXbYc\\d", "doc:a%b_c\\\\d", "doc:secret/x", "doc:secretx", "doc:patients/p", "doc:hr/h", "doc:x", "doc:y", "", "other:z"];
        string?[] scopes = [null, "acme", "acme/health", "acme/health/ward", "acme/healthy", "acme//health", "/acme", "acme/", ""];
        string?[] tiers = [null, "public", "restricted", "top"];
        string?[]?[] tagSets = [null, [], ["pii"], ["phi"], ["phi", "pii"], ["nope"], ["phi", null]];
        int checks = 0, allowed = 0;
        foreach (string name in names)
        {
            foreach (string? scope in scopes)
            {
                foreach (string? tier in tiers)
                {
                    foreach (string?[]? tags in tagSets)
                    {
                        foreach (string? owner in new[] { null, "carol", "dave" })
                        {
                            var d = new Doc { Name = name, Scope = scope, Tier = tier, Tags = tags, Owner = owner };
                            bool expected = policy.Authorize(carol, "data:read", Full.ToResource(d)).Allowed;
                            predicate(d).Should().Be(expected, Show(d));
                            checks++;
                            allowed += expected ? 1 : 0;
                        }
                    }
                }
            }
        }

        allowed.Should().BeGreaterThan(50).And.BeLessThan(checks);
    }

    [Fact]
    public void WithoutLike_GlobsAndScopesAreWidened_AndSaySo()
    {
        var policy = new TestPolicy()
            .Role("analyst", allow: ["data:read on doc:**"], deny: ["data:read on doc:secret/**"])
            .BoundSubject("carol", roles: ["analyst"], scope: "acme")
            .Build();
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("analyst", Scope: "acme")]);
        var store = policy.FilterFor(carol, "data:read").ToStoreFilter(Full);
        store.Approximations.Should().Be(StoreFilterApproximations.NamePatterns | StoreFilterApproximations.ScopePaths | StoreFilterApproximations.UnknownTags);
        store.IsExact.Should().BeFalse();
        AllowedShapes.Check(store.Predicate, like: false);
        var secret = new Doc { Name = "doc:secret/x", Scope = "acme" };
        store.Predicate.Compile()(secret).Should().BeTrue("a deny glob cannot be said without LIKE: the store passes more");
        store.PostFilter([secret, new Doc { Name = "doc:ok", Scope = "acme/x" }]).Select(d => d.Name).Should().Equal("doc:ok");
    }

    [Fact]
    public void IncompleteFilter_PassesEverythingInTheStore_AndThePostFilterDecides()
    {
        var policy = new TestPolicy().Role("analyst", allow: ["data:read on doc:**"]).Build();
        var bindings = Enumerable.Range(0, CompiledPolicy.MaxFilterBranches + 1).Select(i => new RoleBinding("analyst", Scope: $"s{i}")).ToArray();
        var many = new Subject("many", SubjectKind.User, bindings);
        var store = policy.FilterFor(many, "data:read").ToStoreFilter(Full);
        store.Approximations.Should().Be(StoreFilterApproximations.Incomplete);
        store.Predicate.Body.Should().BeOfType<ConstantExpression>().Which.Value.Should().Be(true);
        store.PostFilter([new Doc { Name = "doc:a", Scope = "s3" }, new Doc { Name = "doc:b", Scope = "elsewhere" }]).Select(d => d.Name).Should().Equal("doc:a");
    }

    [Fact]
    public void Mapping_RefusesAnythingButMemberAccessOnTheRecord()
    {
        var call = () => new RecordMapping<Doc>(d => d.Name.ToUpperInvariant());
        call.Should().Throw<ArgumentException>();
        var constant = () => new RecordMapping<Doc>(d => "doc:x");
        constant.Should().Throw<ArgumentException>();
        var itself = () => new RecordMapping<string>(s => s);
        itself.Should().Throw<ArgumentException>();
        var scope = () => new RecordMapping<Doc>(d => d.Name) { Scope = d => d.Scope + "/" };
        scope.Should().Throw<ArgumentException>();
        var nul = () => new RecordMapping<Doc>(null!);
        nul.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Parameters_SubjectValuesAreCapturedVariables_SoSubjectsWithTheSameRolesShareOneTreeShape()
    {
        var policy = new TestPolicy()
            .Role("clinician", allow: ["data:read on doc:patients/**", "data:read on doc:x"], deny: ["data:read on doc:patients/old/**"], max: "confidential", clearances: ["phi"])
            .Catalog("doc:patients/**", "confidential", "phi")
            .Owner("data:read")
            .Build();
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health")]);
        var dave = new Subject("dave", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/sales")]);
        var forCarol = policy.FilterFor(carol, "data:read").ToStoreFilter(Full, LikeOptions);
        var forDave = policy.FilterFor(dave, "data:read").ToStoreFilter(Full, LikeOptions);

        // The printed tree shows a captured variable as value(holder).Member, without its value: equal text, equal shape.
        forCarol.Predicate.ToString().Should().Be(forDave.Predicate.ToString(), "only the values differ, and they are parameters");
        var carolValues = Values.Of(forCarol.Predicate);
        carolValues.Captured.Should().Contain(["carol", "acme/health", "acme/health/%", "doc:x"]);
        carolValues.Captured.Should().ContainSingle(v => v == "acme/health", "one parameter per distinct value");
        carolValues.Constants.Should().Contain("doc:patients/%", "a name pattern stays a constant: the planner needs it")
            .And.NotContain(["carol", "acme/health", "acme/health/%", "doc:x"]);

        var chart = new Doc { Name = "doc:patients/p", Scope = "acme/health", Tier = "internal", Tags = ["phi"], Owner = "dave" };
        forCarol.Predicate.Compile()(chart).Should().BeTrue();
        forDave.Predicate.Compile()(chart).Should().BeFalse("dave's parameters hold his scope, not carol's");
        forDave.Predicate.Compile()(new Doc { Name = "doc:patients/p", Scope = "acme/sales/x", Owner = "carol" }).Should().BeTrue();
    }

    [Fact]
    public void Parameters_PastTheBound_AreAllInlined_AndTheFilterIsStillExact()
    {
        // The attacker's subject: enough scoped bindings that one parameter per value would pass a store's limit.
        var policy = new TestPolicy().Role("analyst", allow: ["data:read on doc:**"], deny: ["data:read on doc:secret/**"]).Owner("data:read").Build();
        int scopes = (Tuning.Store.MaxParameters / 2) + 10;
        var many = new Subject("many", SubjectKind.User, [.. Enumerable.Range(0, scopes).Select(i => new RoleBinding("analyst", Scope: $"s{i}"))]);
        var store = policy.FilterFor(many, "data:read").ToStoreFilter(Full, LikeOptions);

        store.IsExact.Should().BeTrue(store.Approximations.ToString());
        var values = Values.Of(store.Predicate);
        values.Captured.Should().BeEmpty($"more than {Tuning.Store.MaxParameters} values are inlined, not sent as parameters");
        values.Constants.Should().Contain(["many", "s7", "s7/%"]);
        var predicate = store.Predicate.Compile();
        foreach (var d in new[] { new Doc { Name = "doc:a", Scope = "s7/x" }, new Doc { Name = "doc:secret/a", Scope = "s7" }, new Doc { Name = "doc:a", Scope = "elsewhere" }, new Doc { Name = "doc:a", Scope = "s8", Owner = "many" } })
        {
            predicate(d).Should().Be(policy.Authorize(many, "data:read", Full.ToResource(d)).Allowed, Show(d));
        }

        // The operator's subject, well inside the bound, gets parameters.
        var few = new Subject("few", SubjectKind.User, [.. Enumerable.Range(0, 20).Select(i => new RoleBinding("analyst", Scope: $"s{i}"))]);
        Values.Of(policy.FilterFor(few, "data:read").ToStoreFilter(Full, LikeOptions).Predicate).Captured.Should().Contain(["few", "s7", "s7/%"]);
    }

    [Theory]
    [InlineData("doc:a%b_c\\d", "doc:a\\%b\\_c\\\\d", true)]
    [InlineData("doc:**", "doc:%", true)]
    [InlineData("a/**/b", "a/%/b", true)]
    [InlineData("doc:*", "doc:%", false)]
    [InlineData("tool:?ql_*", "tool:%ql\\_%", false)]
    [InlineData("tool:[a-c]**", "tool:%", false)]
    [InlineData("x%**", "x\\%%", true)]
    public void Globs_BecomeEscapedLikePatterns(string glob, string like, bool exact)
    {
        AiRbac.Patterns.Pattern.TryParse(glob, out var pattern, out _).Should().BeTrue();
        StoreFilterBuilder.ToLike(pattern!).Should().Be((like, exact));
        Like(glob.Replace("**", "zz/zz", StringComparison.Ordinal), like).Should().Be(exact || like.Contains('%', StringComparison.Ordinal));
    }

    private static Doc ToDoc(ResourceRequest r, Random random) => new()
    {
        Name = r.Name,
        Scope = r.Scope,
        Tier = r.Sensitivity,
        Tags = r.Tags.IsEmpty ? (random.Next(2) == 0 ? null : []) : r.Tags.ToArray(),
        Owner = r.Owner,
    };

    internal static string Show(Doc d)
        => $"{{name '{d.Name}', scope '{d.Scope}', tier '{d.Tier}', tags [{string.Join(",", d.Tags ?? [])}], owner '{d.Owner}'}}";

    private static void Report(List<string> mismatches, string text)
    {
        if (mismatches.Count < 10)
        {
            mismatches.Add(text);
        }
    }

    private static bool LikeAt(string value, int i, string pattern, int p)
    {
        while (p < pattern.Length)
        {
            char c = pattern[p];
            if (c == '%')
            {
                for (int k = i; k <= value.Length; k++)
                {
                    if (LikeAt(value, k, pattern, p + 1))
                    {
                        return true;
                    }
                }

                return false;
            }

            if (c == '\\')
            {
                p++;
                c = pattern[p];
            }
            else if (c == '_')
            {
                if (i >= value.Length)
                {
                    return false;
                }

                i++;
                p++;
                continue;
            }

            if (i >= value.Length || value[i] != c)
            {
                return false;
            }

            i++;
            p++;
        }

        return i == value.Length;
    }

    /// <summary>The values of a predicate: those held by captured variables (parameters) and those inlined as constants.</summary>
    internal sealed class Values : ExpressionVisitor
    {
        public List<string> Captured { get; } = [];

        public List<string> Constants { get; } = [];

        public static Values Of(LambdaExpression predicate)
        {
            var values = new Values();
            values.Visit(predicate.Body);
            return values;
        }

        protected override Expression VisitMember(MemberExpression node)
        {
            if (node.Expression is ConstantExpression { Value: { } holder })
            {
                Add(Captured, ((PropertyInfo)node.Member).GetValue(holder));
                return node;
            }

            return base.VisitMember(node);
        }

        protected override Expression VisitConstant(ConstantExpression node)
        {
            Add(Constants, node.Value);
            return node;
        }

        private static void Add(List<string> list, object? value)
        {
            if (value is string text)
            {
                list.Add(text);
            }
            else if (value is string[] texts)
            {
                list.AddRange(texts);
            }
        }
    }

    /// <summary>
    /// Refuses any node a VectorData provider does not translate: only the record parameter, member accesses on it,
    /// constants (strings, booleans, string arrays), captured variables (a property of a constant object, holding a
    /// string or a string array: the store's parameters), <c>==</c>, <c>!=</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>!</c> and
    /// <c>Enumerable.Contains</c>; in LIKE mode, also the store's <c>LIKE</c> call and
    /// <c>tags.All(t =&gt; allowed.Contains(t))</c> (its body held to the same shapes).
    /// </summary>
    internal sealed class AllowedShapes : ExpressionVisitor
    {
        private readonly bool like;
        private readonly MethodInfo? likeMethod;
        private readonly ParameterExpression record;
        private ParameterExpression? tag;

        private AllowedShapes(bool like, MethodInfo? likeMethod, ParameterExpression record)
        {
            this.like = like;
            this.likeMethod = likeMethod;
            this.record = record;
        }

        public static void Check<T>(Expression<Func<T, bool>> predicate, bool like, MethodInfo? likeMethod = null)
            => new AllowedShapes(like, likeMethod ?? LikeMethod, predicate.Parameters.Single()).Visit(predicate.Body);

        public override Expression? Visit(Expression? node)
        {
            if (node is null)
            {
                return null;
            }

            switch (node.NodeType)
            {
                case ExpressionType.AndAlso or ExpressionType.OrElse or ExpressionType.Not or ExpressionType.Equal or ExpressionType.NotEqual:
                    node.Type.Should().Be<bool>();
                    return base.Visit(node);
                case ExpressionType.Constant:
                    ((ConstantExpression)node).Value.Should().Match(v => v == null || v is string || v is bool || v is string[]);
                    return node;
                case ExpressionType.Parameter:
                    (node == record || node == tag).Should().BeTrue("only the record (and a tag of the subset test) is a parameter");
                    return node;
                case ExpressionType.MemberAccess:
                    if (node is MemberExpression { Expression: ConstantExpression holder } captured)
                    {
                        // A captured variable: a value the store sends as a parameter (docs/retrieval.md, "Parameters").
                        holder.Value.Should().NotBeNull();
                        captured.Type.Should().Match(t => t == typeof(string) || t == typeof(string[]), "a parameter holds a string or a string array");
                        return node;
                    }

                    Expression? inner = node;
                    while (inner is MemberExpression m)
                    {
                        inner = m.Expression;
                    }

                    inner.Should().BeSameAs(record, "only fields of the record are read");
                    return node;
                case ExpressionType.Call:
                    var call = (MethodCallExpression)node;
                    if (call.Method.DeclaringType == typeof(Enumerable) && call.Method.Name == nameof(Enumerable.Contains))
                    {
                        call.Arguments.Should().HaveCount(2);
                        return base.Visit(node);
                    }

                    like.Should().BeTrue($"{call.Method} is not a shape VectorData providers translate");
                    if (call.Method == likeMethod)
                    {
                        bool constantOrCaptured = call.Arguments[1] is ConstantExpression or MemberExpression { Expression: ConstantExpression };
                        constantOrCaptured.Should().BeTrue("a LIKE pattern is a constant (a name pattern) or a parameter (a binding scope's)");
                        return base.Visit(node);
                    }

                    (call.Method.DeclaringType == typeof(Enumerable) && call.Method.Name == nameof(Enumerable.All)).Should().BeTrue($"{call.Method} is not allowed");
                    var test = call.Arguments[1].Should().BeAssignableTo<LambdaExpression>().Subject;
                    tag = test.Parameters.Single();
                    Visit(call.Arguments[0]);
                    Visit(test.Body);
                    tag = null;
                    return node;
                default:
                    throw new Xunit.Sdk.XunitException($"node {node.NodeType} ({node}) is not a shape stores translate");
            }
        }
    }
}
