-- CreateIndex
CREATE INDEX "slide_imageSha256_idx" ON "slide"("imageSha256");

-- CreateIndex
CREATE INDEX "cell_cropSha256_idx" ON "cell"("cropSha256");

-- CreateIndex
CREATE INDEX "dataset_item_cropSha256_idx" ON "dataset_item"("cropSha256");
