using SegServe.Tools.SelfieImporter;
using SegServe.Tools.SelfieImporter.Onnx;

namespace SegServe.Tools.UnitTests;

/// <summary>Re-importing the official .tflite files gives exactly the committed models.</summary>
public sealed class ReproducibilityTests
{
    [Theory]
    [InlineData("selfie_segmentation.tflite", "selfie")]
    [InlineData("selfie_segmentation_landscape.tflite", "selfie-landscape")]
    public void Import_OfOfficialTflite_IsByteIdenticalToCommittedModel(string sourceFile, string modelName)
    {
        string tflitePath = Path.Combine(TestPaths.SelfiePackageDirectory, sourceFile);
        if (!File.Exists(tflitePath))
        {
            Assert.Skip(
                $"{tflitePath} is absent. Run scripts/import-selfie-models.sh once to fetch npm "
                + $"@mediapipe/selfie_segmentation@{TestPaths.SelfiePackageVersion} into artifacts/selfie-package/.");
        }

        byte[] reimported = OnnxWriter.Serialize(SelfieModelImporter.Import(tflitePath));

        byte[] committed = File.ReadAllBytes(TestPaths.CommittedModel(modelName));
        Assert.True(
            committed.AsSpan().SequenceEqual(reimported),
            $"Re-importing {sourceFile} gave {reimported.Length} bytes that differ from the committed {committed.Length}-byte models/{modelName}/model.onnx.");
    }
}
