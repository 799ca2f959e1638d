using System.Globalization;
using AiRbac.Yaml;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace AiRbac.Store.Tests;

/// <summary>A stored document: one row of the <c>documents</c> table.</summary>
public sealed class Document
{
    public long Id { get; set; }

    public string Name { get; set; } = string.Empty;

    public string? Scope { get; set; }

    public string? Tier { get; set; }

    public string?[]? Tags { get; set; }

    public string? Owner { get; set; }
}

/// <summary>The documents table through EF Core and Npgsql.</summary>
public sealed class DocumentContext(DbContextOptions<DocumentContext> options) : DbContext(options)
{
    public DbSet<Document> Documents => Set<Document>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var document = modelBuilder.Entity<Document>().ToTable("documents");
        document.HasKey(d => d.Id);
        document.Property(d => d.Id).HasColumnName("id").ValueGeneratedNever();
        document.Property(d => d.Name).HasColumnName("name");
        document.Property(d => d.Scope).HasColumnName("scope");
        document.Property(d => d.Tier).HasColumnName("tier");
        document.Property(d => d.Tags).HasColumnName("tags");
        document.Property(d => d.Owner).HasColumnName("owner");
    }
}

/// <summary>
/// The server (<see cref="PostgresServer"/>) with 100,000 random documents, bulk-inserted with a binary <c>COPY</c>:
/// names, scopes, tiers, tags and owners drawn so that every clause of the test policy is hit, including names and
/// scopes with <c>%</c>, <c>_</c> and <c>\</c>, malformed scopes, undeclared tiers and tags the policy never names.
/// </summary>
public sealed class DocumentStore : IDisposable
{
    public const int Rows = 100_000;

    private static readonly string[] Folders =
        ["public", "secret", "secretx", "hr", "patients", "sales", "100%", "1000", "100", "a_b\\c", "axb\\c", "a_b\\", "notes", "x"];

    private static readonly string[] Leaves = ["x", "notes", "x_y", "q%", "\\", "a/b", "", "p-1"];

    private static readonly string?[] Scopes =
        [null, null, "acme", "acme/health", "acme/health/ward-3", "acme/healthy", "acme/r_d", "acme/r_d/lab", "acme/rxd/lab", "acme//x", "/acme", "acme/", "", "other"];

    private static readonly string?[] Tiers = [null, null, null, "public", "internal", "confidential", "restricted", "top-secret"];

    private static readonly string?[]?[] TagSets = [null, null, [], ["phi"], ["pii"], ["phi", "pii"], ["unknown"], ["pii", "unknown"], ["phi", null]];

    private static readonly string?[] Owners = [null, null, "alice", "carol", "ivan", "rag-bot"];

    private readonly PostgresServer server = new();

    public DocumentStore()
    {
        if (server.Unavailable is not null)
        {
            return;
        }

        var random = new Random(20261201);
        Documents = [.. Enumerable.Range(1, Rows).Select(id => NextDocument(id, random))];
        using var context = NewContext();
        context.Database.EnsureCreated();
        var connection = (NpgsqlConnection)context.Database.GetDbConnection();
        connection.Open();
        using (var writer = connection.BeginBinaryImport("COPY documents (id, name, scope, tier, tags, owner) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var d in Documents)
            {
                writer.StartRow();
                writer.Write(d.Id, NpgsqlDbType.Bigint);
                writer.Write(d.Name, NpgsqlDbType.Text);
                WriteOrNull(writer, d.Scope);
                WriteOrNull(writer, d.Tier);
                if (d.Tags is null)
                {
                    writer.WriteNull();
                }
                else
                {
                    writer.Write(d.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text);
                }

                WriteOrNull(writer, d.Owner);
            }

            writer.Complete();
        }

        using var analyze = new NpgsqlCommand("ANALYZE documents", connection);
        analyze.ExecuteNonQuery();
    }

    public string? Unavailable => server.Unavailable;

    public IReadOnlyList<Document> Documents { get; } = [];

    public DocumentContext NewContext()
        => new(new DbContextOptionsBuilder<DocumentContext>().UseNpgsql(server.ConnectionString).Options);

    public void Dispose() => server.Dispose();

    private static Document NextDocument(long id, Random random)
    {
        string name = random.Next(40) switch
        {
            0 => string.Empty,
            1 => "other:" + Leaves[random.Next(Leaves.Length)],
            2 => "doc:a_b\\c",
            3 => "doc:axb\\c",
            _ => "doc:" + Folders[random.Next(Folders.Length)] + (random.Next(5) == 0 ? string.Empty : "/" + Leaves[random.Next(Leaves.Length)]),
        };
        return new Document
        {
            Id = id,
            Name = name,
            Scope = Scopes[random.Next(Scopes.Length)],
            Tier = Tiers[random.Next(Tiers.Length)],
            Tags = TagSets[random.Next(TagSets.Length)],
            Owner = Owners[random.Next(Owners.Length)],
        };
    }

    private static void WriteOrNull(NpgsqlBinaryImporter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.Write(value, NpgsqlDbType.Text);
        }
    }
}

/// <summary>
/// Store filters applied to an EF Core query over a real PostgreSQL (docs/retrieval.md, "Store filters"): on 100,000
/// random documents, the SQL result passes every document <c>Authorize</c> allows, exactly those when the filter is
/// exact (LIKE-exact globs, scopes, tags), and the post-filter of the SQL result equals <c>Authorize</c> row by row.
/// </summary>
public sealed class PostgresStoreFilterTests(DocumentStore store, ITestOutputHelper output) : IClassFixture<DocumentStore>
{
    /// <summary>The store's LIKE (Npgsql: <c>name LIKE pattern ESCAPE '\'</c>) and tag subset test (a <c>NOT EXISTS</c> over <c>unnest(tags)</c>).</summary>
    public static readonly StoreFilterOptions Postgres = new() { Like = (s, p) => EF.Functions.Like(s, p, "\\"), TagSubset = true };

    public static readonly RecordMapping<Document> Mapping = new(d => d.Name)
    {
        Scope = d => d.Scope,
        Tier = d => d.Tier,
        Tags = d => d.Tags,
        Owner = d => d.Owner,
    };

    private const string PolicyYaml = """
        version: 1
        roles:
          viewer:
            allow: [ "data:read on doc:public/**" ]
            max_sensitivity: internal
          analyst:
            inherits: [viewer]
            allow: [ "data:read on doc:**" ]
            deny: [ "data:read on doc:secret/**", "data:read on doc:100%/**" ]
            max_sensitivity: confidential
            clearances: [pii]
          clinician:
            allow: [ "data:read on doc:patients/**", "data:read on doc:a_b\\**" ]
            max_sensitivity: restricted
            clearances: [phi]
          researcher:
            allow: [ "data:read on doc:sales/**", "data:read on doc:1000/**" ]
            max_sensitivity: restricted
            clearances: [phi, pii]
          assistant:
            kinds: [agent]
            allow: [ "data:read on doc:**" ]
            deny: [ "data:read on doc:secret/**" ]
            max_sensitivity: restricted
            clearances: [phi, pii]
          globber:
            allow: [ "data:read on doc:*/notes", "data:read on doc:?ales/**" ]
            deny: [ "data:read on doc:*/x_y" ]
            max_sensitivity: restricted
            clearances: [phi, pii]
          approver:
            allow: [ "data:approve on doc:**" ]
            max_sensitivity: restricted
            clearances: [phi, pii]
        resources:
          - { match: "doc:patients/**", sensitivity: restricted, tags: [phi] }
          - { match: "doc:hr/**", sensitivity: confidential, tags: [pii] }
          - { match: "doc:public/**", sensitivity: public }
          - { match: "doc:**", sensitivity: internal }
        constraints:
          not_by_owner: [ "data:approve" ]
        """;

    private static CompiledPolicy Policy { get; } = Compile();

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

    private static CompiledPolicy Compile()
    {
        var compilation = YamlPolicy.Compile(PolicyYaml, "store-test.yaml");
        return compilation.Policy ?? throw new InvalidOperationException(string.Join("\n", compilation.Diagnostics));
    }
}
