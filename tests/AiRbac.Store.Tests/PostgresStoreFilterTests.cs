using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace AiRbac.Store.Tests;

/// <summary>
/// Store filters applied to an EF Core query over a real PostgreSQL (docs/retrieval.md, "Store filters"): on 100,000
/// random documents, the SQL result passes every document <c>Authorize</c> allows, exactly those when the filter is
/// exact (LIKE-exact globs, scopes, tags), and the post-filter of the SQL result equals <c>Authorize</c> row by row.
/// </summary>
public sealed class PostgresStoreFilterTests(DocumentStore store, ITestOutputHelper output) : IClassFixture<DocumentStore>
{
    private static CompiledPolicy Policy => StoreScenario.Policy;

    private static RecordMapping<Document> Mapping => StoreScenario.Mapping;

    private static StoreFilterOptions Postgres => StoreScenario.Postgres;

    public static TheoryData<string> Cases() => ["alice", "carol", "rag-bot for carol", "ivan", "approver", "globber", "alice without options"];

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void SqlResult_OnOneHundredThousandRows_IsWhatAuthorizeAllows(string name)
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        var (subject, action, options, exact) = Case(name);
        StoreFilter<Document> filter = Policy.FilterFor(subject, action).ToStoreFilter(Mapping, options);
        filter.IsExact.Should().Be(exact, filter.Approximations.ToString());

        var allowed = store.Documents.Where(d => Policy.Authorize(subject, action, Mapping.ToResource(d)).Allowed).Select(d => d.Id).ToHashSet();
        using var context = store.NewContext();
        var query = filter.Apply(context.Documents.AsNoTracking()).OrderBy(d => d.Id);
        List<Document> fromSql = [.. query];
        var sqlIds = fromSql.Select(d => d.Id).ToHashSet();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {store.Documents.Count} rows, {allowed.Count} allowed, {sqlIds.Count} from SQL ({filter.Approximations})\n{query.ToQueryString()}"));

        allowed.Should().NotBeEmpty().And.HaveCountLessThan(DocumentStore.Rows, "the case must both allow and deny");
        allowed.Except(sqlIds).Should().BeEmpty("the SQL result must hold every document Authorize allows");
        if (exact)
        {
            sqlIds.Should().BeEquivalentTo(allowed, "an exact filter's SQL result is exactly what Authorize allows");
        }
        else
        {
            sqlIds.Should().HaveCountGreaterThan(allowed.Count, "this case's filter is widened");
        }

        filter.PostFilter(fromSql).Select(d => d.Id).Should().Equal(allowed.Order(), "the post-filter makes the result exact");
    }

    [SkippableFact]
    public void LikeWildcardsInNamesAndScopes_AreMatchedLiterally()
    {
        Skip.If(store.Unavailable is not null, store.Unavailable);
        using var context = store.NewContext();
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var aliceIds = FilterIds(Policy.FilterFor(alice, "data:read").ToStoreFilter(Mapping, Postgres));
        Names(aliceIds).Should().Contain("doc:1000/x").And.Contain("doc:100/x").And.NotContain(n => n.StartsWith("doc:100%/", StringComparison.Ordinal),
            "the deny doc:100%/** is LIKE 'doc:100\\%/%': it denies doc:100%/… and nothing else");

        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician")]);
        var carolNames = Names(FilterIds(Policy.FilterFor(carol, "data:read").ToStoreFilter(Mapping, Postgres)));
        carolNames.Should().Contain(n => n.StartsWith("doc:a_b\\", StringComparison.Ordinal));
        carolNames.Should().NotContain(n => n.StartsWith("doc:axb\\", StringComparison.Ordinal), "_ is a literal underscore, not LIKE's any character");

        var scoped = new Subject("rd", SubjectKind.User, [new RoleBinding("researcher", Scope: "acme/r_d")]);
        var scopes = FilterIds(Policy.FilterFor(scoped, "data:read").ToStoreFilter(Mapping, Postgres))
            .Select(id => store.Documents[(int)id - 1].Scope).ToHashSet();
        scopes.Should().BeEquivalentTo(new[] { "acme/r_d", "acme/r_d/lab" }, "acme/rxd is not under acme/r_d");

        HashSet<long> FilterIds(StoreFilter<Document> filter) => [.. filter.Apply(context.Documents).Select(d => d.Id)];
        HashSet<string> Names(HashSet<long> ids) => [.. ids.Select(id => store.Documents[(int)id - 1].Name)];
    }

    private static (Subject Subject, string Action, StoreFilterOptions? Options, bool Exact) Case(string name)
    {
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer")]);
        return name switch
        {
            "alice" => (Subject.WithRoles("alice", SubjectKind.User, "analyst"), "data:read", Postgres, true),
            "carol" => (carol, "data:read", Postgres, true),
            "rag-bot for carol" => (Subject.WithRoles("rag-bot", SubjectKind.Agent, "assistant").ActingFor(carol), "data:read", Postgres, true),
            "ivan" => (new Subject("ivan", SubjectKind.User, [new RoleBinding("researcher", Scope: "acme/r_d"), new RoleBinding("analyst", Scope: "acme")]), "data:read", Postgres, true),
            "approver" => (Subject.WithRoles("alice", SubjectKind.User, "approver"), "data:approve", Postgres, true),
            "globber" => (Subject.WithRoles("gus", SubjectKind.User, "globber"), "data:read", Postgres, false),
            "alice without options" => (Subject.WithRoles("alice", SubjectKind.User, "analyst"), "data:read", null, false),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }
}
