using AiRbac.Model;
using AiRbac.Yaml;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>The compile phase per scale: YAML loading, compiling the document, and both (what a reload costs).</summary>
[MemoryDiagnoser]
[BenchmarkCategory("Compile")]
public class CompileBenchmarks
{
    private string path = string.Empty;
    private PolicyDocument document = null!;

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Finds the policy file and loads the document once (for the compile-only benchmark).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var scenario = ReferenceScenario.Load(Scale);
        path = scenario.PolicyPath;
        document = scenario.LoadDocument();
        if (PolicyCompiler.Compile(document).Policy is null)
        {
            throw new InvalidOperationException($"{path} does not compile");
        }
    }

    /// <summary>Reads and parses the YAML file into a policy document.</summary>
    /// <returns>The document.</returns>
    [Benchmark]
    public PolicyDocument? LoadYaml() => YamlPolicyLoader.LoadFile(path).Document;

    /// <summary>Compiles a loaded document into the decision table (validation and lint included).</summary>
    /// <returns>The compiled policy.</returns>
    [Benchmark]
    public CompiledPolicy? Compile() => PolicyCompiler.Compile(document).Policy;

    /// <summary>Loads and compiles the file: <c>YamlPolicy.CompileFile</c>.</summary>
    /// <returns>The compiled policy.</returns>
    [Benchmark]
    public CompiledPolicy? LoadAndCompile() => YamlPolicy.CompileFile(path).Policy;
}
