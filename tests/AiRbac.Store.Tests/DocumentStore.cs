using AiRbac.Yaml;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

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

    /// <summary>The server's connection string (a Unix socket, trust authentication).</summary>
    public string ConnectionString => server.ConnectionString;

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

/// <summary>The policy, record mapping and PostgreSQL options of the store tests and benchmarks.</summary>
public static class StoreScenario
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

    public const string PolicyYaml = """
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

    public static CompiledPolicy Policy { get; } = Compile();

    private static CompiledPolicy Compile()
    {
        var compilation = YamlPolicy.Compile(PolicyYaml, "store-test.yaml");
        return compilation.Policy ?? throw new InvalidOperationException(string.Join("\n", compilation.Diagnostics));
    }
}
