namespace SegServe.Tools.UnitTests;

/// <summary>
/// The committed models/&lt;name&gt;/model.onnx files against the oracle: person probabilities from an independent
/// float64 interpreter of the official .tflite files (shared/fixtures/selfie-oracle).
/// </summary>
public sealed class CommittedModelOracleTests(ITestOutputHelper output)
{
    /// <summary>A correct conversion stays within this of the float64 oracle on every pixel.</summary>
    private const double Tolerance = 1e-4;

    private const string NoOracleCase = "(no oracle fixtures)";

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        if (TestPaths.SelfieOracleDirectory is null)
        {
            // Still one row, so that the run reports a skip with a reason instead of a theory without data.
            names.Add(NoOracleCase);
            return names;
        }

        foreach (OracleCase oracleCase in OracleCase.LoadAll(TestPaths.SelfieOracleDirectory))
        {
            names.Add(oracleCase.Name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void CommittedModel_MatchesOracle_WithinTolerance(string caseName)
    {
        OracleCase oracleCase = FindCase(caseName);
        string directory = TestPaths.SelfieOracleDirectory!;
        float[] input = OracleCase.ReadFloats(Path.Combine(directory, oracleCase.Input));
        float[] expected = OracleCase.ReadFloats(Path.Combine(directory, oracleCase.Expected));

        float[] actual = OnnxRunner.Run(TestPaths.CommittedModel(oracleCase.ModelDirectory), input, ToLongs(oracleCase.InputShape), out long[] outputShape);

        Assert.Equal(ToLongs(oracleCase.ExpectedShape), outputShape);
        double maxError = OnnxRunner.MaxAbsoluteDifference(actual, expected);
        output.WriteLine($"{caseName}: max abs error {maxError:E3} over {actual.Length} pixels");
        Assert.True(maxError <= Tolerance, $"{caseName}: max abs error {maxError:E3} exceeds {Tolerance:E1}.");
    }

    [Theory]
    [InlineData("general")]
    [InlineData("landscape")]
    public void CommittedModel_RunsBatchOfTwo_EachItemMatchesOracle(string model)
    {
        if (TestPaths.SelfieOracleDirectory is null)
        {
            Assert.Skip(SkipReason);
        }

        string directory = TestPaths.SelfieOracleDirectory;
        OracleCase[] cases = [.. OracleCase.LoadAll(directory).Where(oracleCase => oracleCase.Model == model).Take(2)];
        Assert.Equal(2, cases.Length);

        // Stack two different photos into one batch, so that a batch baked to 1 or items mixed up would show.
        float[] first = OracleCase.ReadFloats(Path.Combine(directory, cases[0].Input));
        float[] second = OracleCase.ReadFloats(Path.Combine(directory, cases[1].Input));
        float[] batch = [.. first, .. second];
        long[] batchShape = ToLongs(cases[0].InputShape);
        batchShape[0] = 2;

        float[] actual = OnnxRunner.Run(TestPaths.CommittedModel(cases[0].ModelDirectory), batch, batchShape, out long[] outputShape);

        long[] expectedShape = ToLongs(cases[0].ExpectedShape);
        expectedShape[0] = 2;
        Assert.Equal(expectedShape, outputShape);
        int itemLength = actual.Length / 2;
        for (int item = 0; item < 2; item++)
        {
            float[] expected = OracleCase.ReadFloats(Path.Combine(directory, cases[item].Expected));
            double maxError = OnnxRunner.MaxAbsoluteDifference(actual.AsSpan(item * itemLength, itemLength), expected);
            output.WriteLine($"{cases[item].Name} in batch of 2: max abs error {maxError:E3}");
            Assert.True(maxError <= Tolerance, $"{cases[item].Name} (batch item {item}): max abs error {maxError:E3} exceeds {Tolerance:E1}.");
        }
    }

    private const string SkipReason =
        "The selfie oracle fixtures were not found: expected a 'shared/fixtures/selfie-oracle' folder beside the repository "
        + "(or above the test's base directory). CI lays out shared/ beside the clone.";

    private static OracleCase FindCase(string caseName)
    {
        if (caseName == NoOracleCase || TestPaths.SelfieOracleDirectory is null)
        {
            Assert.Skip(SkipReason);
        }

        return OracleCase.LoadAll(TestPaths.SelfieOracleDirectory).Single(oracleCase => oracleCase.Name == caseName);
    }

    private static long[] ToLongs(int[] values) => Array.ConvertAll(values, value => (long)value);
}
