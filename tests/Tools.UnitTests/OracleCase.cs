using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SegServe.Tools.UnitTests;

/// <summary>One case of shared/fixtures/selfie-oracle/oracle.json: an input photo and the expected person probabilities.</summary>
internal sealed record OracleCase(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("source_model")] string SourceModel,
    [property: JsonPropertyName("input")] string Input,
    [property: JsonPropertyName("input_shape")] int[] InputShape,
    [property: JsonPropertyName("expected")] string Expected,
    [property: JsonPropertyName("expected_shape")] int[] ExpectedShape)
{
    public string Name => Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(Input));

    /// <summary>The committed model directory under models/ that this case exercises.</summary>
    public string ModelDirectory => Model switch
    {
        "general" => "selfie",
        "landscape" => "selfie-landscape",
        _ => throw new InvalidDataException($"Unknown oracle model '{Model}'."),
    };

    public static IReadOnlyList<OracleCase> LoadAll(string oracleDirectory)
    {
        string json = File.ReadAllText(Path.Combine(oracleDirectory, "oracle.json"));
        OracleFile file = JsonSerializer.Deserialize<OracleFile>(json) ?? throw new InvalidDataException("oracle.json is empty.");
        return file.Cases;
    }

    public static float[] ReadFloats(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        }

        return values;
    }

    private sealed record OracleFile([property: JsonPropertyName("cases")] OracleCase[] Cases);
}
